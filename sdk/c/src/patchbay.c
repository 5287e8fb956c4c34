// The Patchbay SDK for C plugins; see include/patchbay.h.

#include "patchbay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yyjson.h"

plugin_string_t pb_str_n(const char *s, size_t len) {
  plugin_string_t out = {0};
  if (s != NULL && len > 0) plugin_string_dup_n(&out, s, len);
  return out;
}

plugin_string_t pb_str(const char *s) { return pb_str_n(s, s ? strlen(s) : 0); }

char *pb_cstr(const plugin_string_t *s) {
  char *out = malloc(s->len + 1);
  if (s->len) memcpy(out, s->ptr, s->len);
  out[s->len] = '\0';
  return out;
}

static char *vformat(const char *fmt, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int len = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  char *out = malloc((size_t)(len < 0 ? 0 : len) + 1);
  vsnprintf(out, (size_t)(len < 0 ? 0 : len) + 1, fmt, args);
  return out;
}

char *pb_format(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  char *out = vformat(fmt, args);
  va_end(args);
  return out;
}

plugin_list_string_t pb_str_list(const char *const *items) {
  plugin_list_string_t list = {0};
  while (items && items[list.len]) list.len++;
  if (list.len == 0) return list;
  list.ptr = malloc(list.len * sizeof(plugin_string_t));
  for (size_t i = 0; i < list.len; i++) list.ptr[i] = pb_str(items[i]);
  return list;
}

// ---- errors ----------------------------------------------------------------

static bool fail_text(pb_error_t *err, uint8_t tag, const char *fmt, va_list args) {
  char *message = vformat(fmt, args);
  err->tag = tag;
  plugin_string_t text = pb_str(message);
  free(message);
  switch (tag) {
    case PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_AUTH: err->val.auth = text; break;
    case PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_CONFIG: err->val.config = text; break;
    case PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_VALIDATION: err->val.validation = text; break;
    case PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_UNSUPPORTED: err->val.unsupported = text; break;
    default: err->val.not_found = text; break;
  }
  return false;
}

#define TEXT_ERROR(fn, tag)                                  \
  bool fn(pb_error_t *err, const char *fmt, ...) {           \
    va_list args;                                            \
    va_start(args, fmt);                                     \
    fail_text(err, PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_##tag, fmt, args); \
    va_end(args);                                            \
    return false;                                            \
  }

TEXT_ERROR(pb_auth, AUTH)
TEXT_ERROR(pb_config_error, CONFIG)
TEXT_ERROR(pb_validation, VALIDATION)
TEXT_ERROR(pb_not_found, NOT_FOUND)
TEXT_ERROR(pb_unsupported, UNSUPPORTED)

static bool fail_failure(pb_error_t *err, uint8_t tag, int status, const char *fmt, va_list args) {
  char *message = vformat(fmt, args);
  patchbay_connector_types_provider_failure_t failure = {0};
  failure.status.is_some = status > 0;
  failure.status.val = (uint16_t)(status > 0 ? status : 0);
  failure.message = pb_str(message);
  free(message);
  err->tag = tag;
  if (tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PROVIDER) err->val.provider = failure;
  else err->val.permanent = failure;
  return false;
}

bool pb_provider(pb_error_t *err, int status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fail_failure(err, PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PROVIDER, status, fmt, args);
  va_end(args);
  return false;
}

bool pb_permanent(pb_error_t *err, int status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fail_failure(err, PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PERMANENT, status, fmt, args);
  va_end(args);
  return false;
}

bool pb_rate_limited(pb_error_t *err, double retry_after) {
  err->tag = PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_RATE_LIMITED;
  err->val.rate_limited.is_some = retry_after >= 0;
  err->val.rate_limited.val = retry_after >= 0 ? (uint32_t)ceil(retry_after) : 0;
  return false;
}

bool pb_from_status(pb_error_t *err, int status, const char *message, double retry_after) {
  if (status == 401 || status == 403) return pb_auth(err, "%s", message);
  if (status == 404) return pb_not_found(err, "%s", message);
  if (status == 429) return pb_rate_limited(err, retry_after);
  if (status >= 400 && status < 500) return pb_permanent(err, status, "%s", message);
  return pb_provider(err, status, "%s", message);
}

bool pb_is_retryable(const pb_error_t *err) {
  return err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_RATE_LIMITED ||
         err->tag == PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_PROVIDER;
}

// ---- HTTP ------------------------------------------------------------------

static patchbay_connector_http_method_t method_of(const char *name) {
  static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  patchbay_connector_http_method_t method = {0};
  for (uint8_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (strcasecmp(name, names[i]) == 0) {
      method.tag = i;
      return method;
    }
  }
  method.tag = PATCHBAY_CONNECTOR_HTTP_METHOD_OTHER;
  method.val.other = pb_str(name);
  return method;
}

bool pb_from_http_error(const patchbay_connector_http_http_error_t *e, pb_error_t *err) {
  char *text = NULL;
  bool result;
  switch (e->tag) {
    case PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_DENIED:
      text = pb_cstr(&e->val.denied);
      result = pb_permanent(err, 0, "denied by host policy: %s", text);
      break;
    case PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_TIMEOUT:
      text = pb_cstr(&e->val.timeout);
      result = pb_provider(err, 0, "timed out: %s", text);
      break;
    case PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_CONNECTION:
      text = pb_cstr(&e->val.connection);
      result = pb_provider(err, 0, "connection failed: %s", text);
      break;
    case PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_TOO_LARGE:
      result = pb_permanent(err, 0, "response larger than the host's limit of %llu bytes",
                            (unsigned long long)e->val.too_large);
      break;
    case PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_RATE_LIMITED:
      result = pb_rate_limited(err, e->val.rate_limited.is_some ? (double)e->val.rate_limited.val : -1.0);
      break;
    case PATCHBAY_CONNECTOR_HTTP_HTTP_ERROR_CIRCUIT_OPEN:
      text = pb_cstr(&e->val.circuit_open);
      result = pb_provider(err, 0, "circuit open: %s", text);
      break;
    default:
      text = pb_cstr(&e->val.invalid_request);
      result = pb_validation(err, "invalid request: %s", text);
      break;
  }
  free(text);
  return result;
}

bool pb_send(const pb_request_t *request, pb_response_t *out, pb_error_t *err) {
  patchbay_connector_http_request_t req = {0};
  req.method = method_of(request->method);
  req.url = pb_str(request->url);
  patchbay_connector_types_header_t headers[2];
  size_t count = 0;
  headers[count].name = pb_str("accept");
  headers[count++].value = pb_str("application/json");
  if (request->body != NULL && request->content_type != NULL) {
    headers[count].name = pb_str("content-type");
    headers[count++].value = pb_str(request->content_type);
  }
  req.headers.ptr = headers;
  req.headers.len = count;
  if (request->body != NULL) {
    req.body.is_some = true;
    req.body.val.ptr = (uint8_t *)request->body;
    req.body.val.len = request->body_len;
  }
  if (request->auth != NULL) {
    req.auth.is_some = true;
    req.auth.val = *request->auth;
  }
  if (request->idempotency_key != NULL) {
    req.options.is_some = true;
    req.options.val.retry = PATCHBAY_CONNECTOR_HTTP_RETRY_MODE_AUTOMATIC;
    req.options.val.idempotency_key.is_some = true;
    req.options.val.idempotency_key.val = pb_str(request->idempotency_key);
  }
  patchbay_connector_http_response_t response = {0};
  patchbay_connector_http_http_error_t http_error = {0};
  bool ok = patchbay_connector_http_send(&req, &response, &http_error);
  plugin_string_free(&req.url);
  for (size_t i = 0; i < count; i++) {
    plugin_string_free(&headers[i].name);
    plugin_string_free(&headers[i].value);
  }
  if (req.method.tag == PATCHBAY_CONNECTOR_HTTP_METHOD_OTHER) plugin_string_free(&req.method.val.other);
  if (req.options.is_some) plugin_string_free(&req.options.val.idempotency_key.val);
  if (!ok) {
    pb_from_http_error(&http_error, err);
    patchbay_connector_http_http_error_free(&http_error);
    return false;
  }
  out->status = response.status;
  out->headers = response.headers;
  out->body_len = response.body.len;
  out->body = malloc(response.body.len + 1);
  if (response.body.len) memcpy(out->body, response.body.ptr, response.body.len);
  out->body[response.body.len] = '\0';
  plugin_list_u8_free(&response.body);
  return true;
}

void pb_response_free(pb_response_t *response) {
  free(response->body);
  response->body = NULL;
  patchbay_connector_http_list_header_free(&response->headers);
}

char *pb_header(const pb_response_t *response, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < response->headers.len; i++) {
    const patchbay_connector_types_header_t *h = &response->headers.ptr[i];
    if (h->name.len == len && strncasecmp((const char *)h->name.ptr, name, len) == 0) return pb_cstr(&h->value);
  }
  return NULL;
}

double pb_retry_after(const pb_response_t *response) {
  char *value = pb_header(response, "retry-after");
  if (value == NULL) return -1;
  char *end = NULL;
  double seconds = strtod(value, &end);
  bool numeric = end != value && *end == '\0' && seconds >= 0;
  free(value);
  return numeric ? seconds : -1;
}

char *pb_error_message(const pb_response_t *response) {
  yyjson_doc *doc = yyjson_read(response->body, response->body_len, 0);
  yyjson_val *root = yyjson_doc_get_root(doc);
  const char *paths[] = {"/message", "/error/message", "/error_description", "/error", "/errors/0/message",
                         "/description"};
  char *message = NULL;
  for (size_t i = 0; root != NULL && message == NULL && i < sizeof(paths) / sizeof(paths[0]); i++) {
    yyjson_val *found = yyjson_ptr_get(root, paths[i]);
    if (yyjson_is_str(found)) message = pb_format("HTTP %u: %s", response->status, yyjson_get_str(found));
  }
  yyjson_doc_free(doc);
  if (message != NULL) return message;
  size_t len = response->body_len < 300 ? response->body_len : 300;
  while (len > 0 && (response->body[len - 1] == '\n' || response->body[len - 1] == ' ')) len--;
  if (len == 0) return pb_format("HTTP %u", response->status);
  return pb_format("HTTP %u: %.*s", response->status, (int)len, response->body);
}

bool pb_check_status(const pb_response_t *response, pb_error_t *err) {
  if (response->status >= 200 && response->status < 300) return true;
  char *message = pb_error_message(response);
  pb_from_status(err, response->status, message, pb_retry_after(response));
  free(message);
  return false;
}

patchbay_connector_http_auth_t pb_auth_bearer(const char *field) {
  patchbay_connector_http_auth_t auth = {0};
  auth.tag = PATCHBAY_CONNECTOR_HTTP_AUTH_BEARER;
  auth.val.bearer = pb_str(field);
  return auth;
}

patchbay_connector_http_auth_t pb_auth_header(const char *name, const char *field, const char *prefix) {
  patchbay_connector_http_auth_t auth = {0};
  auth.tag = PATCHBAY_CONNECTOR_HTTP_AUTH_HEADER;
  auth.val.header.name = pb_str(name);
  auth.val.header.field = pb_str(field);
  auth.val.header.prefix.is_some = prefix != NULL;
  if (prefix != NULL) auth.val.header.prefix.val = pb_str(prefix);
  return auth;
}

// ---- a provider's client ---------------------------------------------------

pb_client_t pb_client(const char *setting, const char *default_base) {
  pb_client_t client = {0};
  char *base = setting ? pb_setting(setting) : NULL;
  if (base == NULL && default_base != NULL) base = pb_format("%s", default_base);
  if (base != NULL) {
    char *start = base;
    while (*start == ' ') start++;
    size_t len = strlen(start);
    while (len > 0 && (start[len - 1] == '/' || start[len - 1] == ' ')) len--;
    client.base = strstr(start, "://") ? pb_format("%.*s", (int)len, start) : pb_format("https://%.*s", (int)len, start);
    free(base);
  }
  client.setting = setting ? pb_format("%s", setting) : NULL;
  return client;
}

void pb_client_auth(pb_client_t *client, patchbay_connector_http_auth_t auth) {
  if (client->has_auth) patchbay_connector_http_auth_free(&client->auth);
  client->auth = auth;
  client->has_auth = true;
}

void pb_client_free(pb_client_t *client) {
  free(client->base);
  free(client->setting);
  if (client->has_auth) patchbay_connector_http_auth_free(&client->auth);
  memset(client, 0, sizeof(*client));
}

bool pb_client_send(const pb_client_t *client, const pb_request_t *request, pb_response_t *out, pb_error_t *err) {
  const char *path = request->url ? request->url : "";
  if (client->base == NULL && strstr(path, "://") == NULL) {
    return pb_config_error(err, "the setting %s is required", client->setting ? client->setting : "(base URL)");
  }
  char *url = strstr(path, "://") ? pb_format("%s", path)
              : *path == '\0'      ? pb_format("%s", client->base)
                                   : pb_format("%s/%s", client->base, path + (*path == '/'));
  pb_request_t full = *request;
  full.url = url;
  full.auth = client->has_auth ? &client->auth : NULL;
  bool sent = pb_send(&full, out, err);
  free(url);
  if (!sent) return false;
  if (out->status >= 200 && out->status < 300) return true;
  if (!(client->errors != NULL && client->errors(out, err))) pb_check_status(out, err);
  pb_response_free(out);
  return false;
}

struct yyjson_doc *pb_client_json(const pb_client_t *client, const pb_request_t *request, pb_error_t *err) {
  pb_response_t response = {0};
  if (!pb_client_send(client, request, &response, err)) return NULL;
  yyjson_doc *doc = yyjson_read(response.body, response.body_len, 0);
  if (doc == NULL) pb_permanent(err, response.status, "the provider's answer is not JSON");
  pb_response_free(&response);
  return doc;
}

bool pb_test_connection(const pb_client_t *client, const char *path, const char *message,
                        exports_patchbay_connector_connector_connection_test_t *ret, pb_error_t *err) {
  pb_request_t request = {.method = "GET", .url = path};
  pb_response_t response = {0};
  if (pb_client_send(client, &request, &response, err)) {
    pb_response_free(&response);
    ret->success = true;
    ret->message = pb_str(message);
    ret->details = pb_str("{}");
    return true;
  }
  if (err->tag != PATCHBAY_CONNECTOR_TYPES_CONNECTOR_ERROR_AUTH) return false;
  char *reason = pb_cstr(&err->val.auth);
  char *text = pb_format("the provider refused the credentials: %s", reason);
  plugin_string_free(&err->val.auth);
  ret->success = false;
  ret->message = pb_str(text);
  ret->details = pb_str("{}");
  free(reason);
  free(text);
  return true;
}

// ---- paging ----------------------------------------------------------------

bool pb_page_from_query(const plugin_string_t *cursor, const uint32_t *limit, uint32_t max_size, pb_page_t *out,
                        pb_error_t *err) {
  out->number = 1;
  if (cursor != NULL) {
    char *text = pb_cstr(cursor);
    char *end = NULL;
    unsigned long number = strtoul(text, &end, 10);
    bool valid = *text >= '0' && *text <= '9' && *end == '\0' && number >= 1 && number <= UINT32_MAX;
    if (!valid) {
      pb_validation(err, "cursor \"%s\" is not a page number; pass a next-cursor from a previous page", text);
      free(text);
      return false;
    }
    free(text);
    out->number = (uint32_t)number;
  }
  uint32_t size = limit != NULL ? *limit : max_size;
  out->size = size < 1 ? 1 : size > max_size ? max_size : size;
  return true;
}

void pb_page_next(const pb_page_t *page, size_t count, int64_t total, int64_t total_pages,
                  plugin_option_string_t *next_cursor, bool *has_more) {
  bool more = total_pages >= 0 ? page->number < total_pages
              : total >= 0     ? (int64_t)page->number * page->size < total
                               : count >= page->size;
  memset(next_cursor, 0, sizeof(*next_cursor));
  *has_more = more;
  if (more) {
    char *text = pb_format("%u", page->number + 1);
    next_cursor->is_some = true;
    next_cursor->val = pb_str(text);
    free(text);
  }
}

char *pb_next_link_param(const pb_response_t *response, const char *param) {
  char *header = pb_header(response, "link");
  if (header == NULL) return NULL;
  char *found = NULL;
  for (char *link = header; link != NULL && found == NULL;) {
    char *next = strchr(link, ',');
    if (next) *next++ = '\0';
    char *open = strchr(link, '<'), *close = open ? strchr(open, '>') : NULL;
    if (close != NULL && strstr(close, "rel=\"next\"") != NULL) {
      *close = '\0';
      char *query = strchr(open, '?');
      size_t plen = strlen(param);
      for (char *pair = query ? query + 1 : NULL; pair != NULL && found == NULL;) {
        char *amp = strchr(pair, '&');
        if (amp) *amp = '\0';
        if (strncmp(pair, param, plen) == 0 && pair[plen] == '=') found = pb_format("%s", pair + plen + 1);
        pair = amp ? amp + 1 : NULL;
      }
    }
    link = next;
  }
  free(header);
  return found;
}

// ---- configuration ---------------------------------------------------------

char *pb_setting(const char *name) {
  plugin_string_t key = pb_str(name);
  plugin_option_string_t value = {0};
  patchbay_connector_config_config_error_t error = {0};
  bool ok = patchbay_connector_config_get(&key, &value, &error);
  plugin_string_free(&key);
  if (!ok) {
    patchbay_connector_config_config_error_free(&error);
    return NULL;
  }
  if (!value.is_some || value.val.len == 0) {
    plugin_option_string_free(&value);
    return NULL;
  }
  char *out = pb_cstr(&value.val);
  plugin_option_string_free(&value);
  return out;
}
