/* tests/unit/support/fake_github_repo.h: one GitHub repository served by
 * the loopback server, for tests of code that reads repository contents
 * through the REST API.
 *
 * It answers what such a reader asks, in GitHub's shapes:
 *   GET /repos/{owner}/{repo}                  the repository document: a
 *       recorded one when given (openapi-examples/full-repository-default-
 *       response.json) with name, full_name and default_branch set to this
 *       repository's; ETag, If-None-Match -> 304;
 *   GET /repos/{o}/{r}/commits/{ref}           the commit of a branch or a
 *       sha; with Accept: application/vnd.github.sha the bare sha, whose
 *       ETag is the quoted sha (If-None-Match -> 304, as GitHub documents),
 *       else {sha, commit: {tree: {sha}}}; an unknown ref -> 422
 *       "No commit found for SHA: ...";
 *   GET /repos/{o}/{r}/git/trees/{sha}[?recursive=1]  a commit's or a
 *       directory's tree ({sha, tree: [{path, mode, type, sha, size}],
 *       truncated}), recursive listings truncated past a set size;
 *   GET /repos/{o}/{r}/git/blobs/{sha}         {sha, size, content, encoding:
 *       base64} with the content wrapped every 60 characters, as GitHub does.
 * Another owner or repository -> 404 Not Found; a refused token -> 401 Bad
 * credentials (both with GitHub's message bodies).  The same answers are
 * served under /api/v3, GitHub Enterprise's layout.  Object ids are real
 * git blob ids (SHA-1 of "blob <len>\0" + bytes); tree and commit ids are
 * stable hashes of their contents.  Every request is recorded. */
#ifndef GR_TEST_FAKE_GITHUB_REPO_H
#define GR_TEST_FAKE_GITHUB_REPO_H

#include <stddef.h>

#include <uv.h>

typedef struct gr_fake_repo gr_fake_repo_t;

typedef struct gr_fake_hit {
    char *method;
    char *target;        /* path and query as sent */
    char *accept;        /* or "" */
    char *if_none_match; /* or "" */
    char *authorization; /* or "" */
    int status;          /* what the fake answered */
} gr_fake_hit_t;

/* Serves owner/name (one slash) whose default branch is branch.
 * repo_document: a JSON file to answer GET /repos/{o}/{r} from, or NULL
 * for a small one.  NULL when the server cannot start. */
gr_fake_repo_t *gr_fake_repo_new(uv_loop_t *loop, const char *owner_name, const char *branch,
                                 const char *repo_document);
/* "http://127.0.0.1:<port>", the apiBaseUrl to configure. */
const char *gr_fake_repo_url(const gr_fake_repo_t *fr);

/* The working copy: files to put in (copied) or take out of the next commit. */
void gr_fake_repo_put(gr_fake_repo_t *fr, const char *path, const void *data, size_t len);
void gr_fake_repo_put_str(gr_fake_repo_t *fr, const char *path, const char *text);
/* A symbolic link (mode 120000) whose blob is the target's name. */
void gr_fake_repo_put_link(gr_fake_repo_t *fr, const char *path, const char *target);
void gr_fake_repo_remove(gr_fake_repo_t *fr, const char *path);
void gr_fake_repo_clear(gr_fake_repo_t *fr);
/* Commits the working copy on the branch, unless it is the same tree as the
 * branch's commit; returns the branch's commit sha (owned by the fake). */
const char *gr_fake_repo_commit(gr_fake_repo_t *fr);
/* The git blob id of the committed file at path, or NULL. */
const char *gr_fake_repo_blob_sha(const gr_fake_repo_t *fr, const char *path);

/* Requests whose Authorization is "token <token>" get 401. */
void gr_fake_repo_refuse_token(gr_fake_repo_t *fr, const char *token);
/* Recursive tree listings of more than max entries are cut to max and
 * marked truncated (0: never). */
void gr_fake_repo_truncate_over(gr_fake_repo_t *fr, size_t max);

size_t gr_fake_repo_hits(const gr_fake_repo_t *fr);
const gr_fake_hit_t *gr_fake_repo_hit(const gr_fake_repo_t *fr, size_t i);
/* How many recorded requests have a target starting with prefix (after
 * "/repos/{owner}/{repo}" when prefix starts with '+': "+/git/blobs/"). */
size_t gr_fake_repo_count(const gr_fake_repo_t *fr, const char *prefix);
void gr_fake_repo_forget_hits(gr_fake_repo_t *fr);

/* Called before each request is answered (the integration helper reads a
 * directory into the working copy and commits there). */
void gr_fake_repo_on_request(gr_fake_repo_t *fr, void (*fn)(gr_fake_repo_t *fr, void *ud),
                             void *ud);

/* Stops the server; the loop must run once more to close its handles. */
void gr_fake_repo_free(gr_fake_repo_t *fr);

#endif
