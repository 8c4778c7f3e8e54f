/* STUB: replaced by the GitHub client. */
#include "api_impl.h"
gr_github_t *gr__github_get(gr_http_client_t *http, const char *host, gr_error_t *err){(void)http;(void)host;(void)err;return NULL;}
void gr__github_request(gr_github_t *gh, const gr_github_request_t *req, size_t req_size, gr_github_fn cb, void *user_data){(void)gh;(void)req;(void)req_size;(void)cb;(void)user_data;}
void gr__github_paginate(gr_github_t *gh, const gr_github_request_t *req, size_t req_size, const char *items_key, int max_pages, gr_github_pages_fn cb, void *user_data){(void)gh;(void)req;(void)req_size;(void)cb;(void)user_data;(void)items_key;(void)max_pages;}
void gr__github_graphql(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size, gr_github_json_fn cb, void *user_data){(void)gh;(void)q;(void)q_size;(void)cb;(void)user_data;}
void gr__github_graphql_paginate(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size, gr_github_pages_fn cb, void *user_data){(void)gh;(void)q;(void)q_size;(void)cb;(void)user_data;}
int gr__github_response_status(const gr_github_response_t *res){(void)res;return 0;}
const char *gr__github_response_header(const gr_github_response_t *res, const char *name){(void)res;(void)name;return NULL;}
const char *gr__github_response_body(const gr_github_response_t *res, size_t *len){(void)res;(void)len;return NULL;}
struct json_object *gr__github_response_json(const gr_github_response_t *res){(void)res;return NULL;}
int gr__github_response_cached(const gr_github_response_t *res){(void)res;return 0;}
