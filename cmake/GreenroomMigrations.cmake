# greenroom_module_migrations(<target> <dir>)
#
# Compiles the plugin's migrations, <dir>/NNN_name.sql, into a generated C
# file linked into <target> that defines
#
#     const gr_migration_t <target>_migrations[];   /* {NULL, NULL}-terminated */
#
# (the target name made a C identifier: kafka-topology -> kafka_topology).
# The module declares it `extern` and puts it in its descriptor's
# `migrations`, so the SQL lives in .sql files and is compiled in.  Files
# apply in name order; adding or changing one re-runs the generator.
set(GR_MIGRATIONS_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/gen_migrations.cmake)

function(greenroom_module_migrations target dir)
  get_filename_component(dir ${dir} ABSOLUTE)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  string(MAKE_C_IDENTIFIER "${target}" cname)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.c)
  # The list of files is a dependency too, so removing or renaming a
  # migration regenerates the array (file timestamps alone would not).
  set(list_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.list)
  set(list_text "${sql_files}")
  if(EXISTS ${list_file})
    file(READ ${list_file} old_list_text)
  endif()
  if(NOT "${old_list_text}" STREQUAL "${list_text}")
    file(WRITE ${list_file} "${list_text}")
  endif()
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DDIR=${dir} -DOUT=${out} -DNAME=${cname}
            -P ${GR_MIGRATIONS_SCRIPT}
    DEPENDS ${sql_files} ${list_file} ${GR_MIGRATIONS_SCRIPT}
    COMMENT "Compiling the migrations of ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
