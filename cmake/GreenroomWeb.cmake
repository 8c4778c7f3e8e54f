# cmake -P script run by web/CMakeLists.txt: installs web/node_modules with
# `npm ci` when it is missing or was installed from another package-lock.json,
# then runs web/build.mjs.  A build whose node_modules is current needs no
# network.  The lock keeps two build trees (build/ and build-san/) from
# running `npm ci` in the same directory at once.
# Inputs: NODE, NPM, WEB_DIR, OUT, NPM_CACHE.
file(LOCK ${WEB_DIR}/.npm-ci.lock GUARD PROCESS TIMEOUT 600)

file(SHA256 ${WEB_DIR}/package-lock.json lock_hash)
set(stamp ${WEB_DIR}/node_modules/.greenroom-lock-sha256)
set(installed "")
if(EXISTS ${stamp})
  file(READ ${stamp} installed)
endif()
if(NOT installed STREQUAL lock_hash)
  message(STATUS "web: npm ci in ${WEB_DIR}")
  execute_process(
    COMMAND ${NPM} ci --no-audit --no-fund --prefer-offline --loglevel=error --cache ${NPM_CACHE}
    WORKING_DIRECTORY ${WEB_DIR}
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web: `npm ci` failed in ${WEB_DIR} (exit ${rc}): the npm registry must be "
      "reachable the first time, or web/node_modules must already match package-lock.json")
  endif()
  file(WRITE ${stamp} ${lock_hash})
endif()

execute_process(COMMAND ${NODE} ${WEB_DIR}/build.mjs --out ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "web: build.mjs failed (exit ${rc})")
endif()
