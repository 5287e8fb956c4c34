// Ollama: chat completions with tools, and the locally pulled models.
// https://github.com/ollama/ollama/blob/main/docs/api.md

#include <stdlib.h>
#include <string.h>

#include "patchbay.h"
#include "yyjson.h"

#define DEFAULT_BASE_URL "http://localhost:11434"
#define DEFAULT_MODEL "llama3.2"

typedef patchbay_connector_llm_types_chat_message_t chat_message_t;
typedef patchbay_connector_llm_types_completion_options_t options_t;
typedef patchbay_connector_llm_types_llm_response_t llm_response_t;
typedef patchbay_connector_llm_types_tool_call_t tool_call_t;

// ---- connector -------------------------------------------------------------
// The manifest is patchbay.toml.

// Ollama's API at the base_url setting; its errors are `{"error": "..."}`,
// which the SDK reads.
static pb_client_t client(void) { return pb_client("base_url", DEFAULT_BASE_URL); }

// Calls `path` and parses the 2xx JSON answer.
static yyjson_doc *call(const char *method, const char *path, const char *body, size_t body_len, pb_error_t *err) {
  pb_client_t api = client();
  pb_request_t request = {
      .method = method,
      .url = path,
      .content_type = body ? "application/json" : NULL,
      .body = body,
      .body_len = body_len,
      // A chat has no side effects: the host may retry it.
      .idempotency_key = body ? "ollama-chat" : NULL,
  };
  yyjson_doc *doc = pb_client_json(&api, &request, err);
  pb_client_free(&api);
  return doc;
}

bool exports_patchbay_connector_connector_test_connection(exports_patchbay_connector_connector_connection_test_t *ret,
                                                          pb_error_t *err) {
  yyjson_doc *doc = call("GET", "/api/tags", NULL, 0, err);
  if (doc == NULL) return false;
  size_t models = yyjson_arr_size(yyjson_obj_get(yyjson_doc_get_root(doc), "models"));
  pb_client_t api = client();
  char *message = pb_format("Ollama at %s has %zu model%s", api.base, models, models == 1 ? "" : "s");
  char *details = pb_format("{\"models\":%zu}", models);
  ret->success = true;
  ret->message = pb_str(message);
  ret->details = pb_str(details);
  free(message);
  free(details);
  pb_client_free(&api);
  yyjson_doc_free(doc);
  return true;
}

// ---- llm -------------------------------------------------------------------

static yyjson_mut_val *mut_string(yyjson_mut_doc *doc, const plugin_string_t *s) {
  return yyjson_mut_strncpy(doc, (const char *)s->ptr, s->len);
}

// Parses a JSON text the caller gave (tool arguments, schemas) into `doc`.
static yyjson_mut_val *parse_json(yyjson_mut_doc *doc, const plugin_string_t *text, const char *what, pb_error_t *err) {
  yyjson_doc *parsed = yyjson_read((const char *)text->ptr, text->len, 0);
  if (parsed == NULL) {
    pb_validation(err, "%s is not JSON", what);
    return NULL;
  }
  yyjson_mut_val *copy = yyjson_val_mut_copy(doc, yyjson_doc_get_root(parsed));
  yyjson_doc_free(parsed);
  return copy;
}

static const char *role_name(uint8_t role) {
  switch (role) {
    case PATCHBAY_CONNECTOR_LLM_TYPES_CHAT_ROLE_SYSTEM: return "system";
    case PATCHBAY_CONNECTOR_LLM_TYPES_CHAT_ROLE_ASSISTANT: return "assistant";
    case PATCHBAY_CONNECTOR_LLM_TYPES_CHAT_ROLE_TOOL: return "tool";
    default: return "user";
  }
}

// The name of the function an earlier assistant message called with `id`.
static const plugin_string_t *tool_name_for(const exports_patchbay_connector_llm_list_chat_message_t *messages,
                                            size_t before, const plugin_string_t *id) {
  for (size_t i = 0; i < before; i++) {
    const chat_message_t *m = &messages->ptr[i];
    for (size_t j = 0; j < m->tool_calls.len; j++) {
      const tool_call_t *call = &m->tool_calls.ptr[j];
      if (call->id.len == id->len && memcmp(call->id.ptr, id->ptr, id->len) == 0) return &call->name;
    }
  }
  return NULL;
}

static bool add_messages(yyjson_mut_doc *doc, yyjson_mut_val *root,
                         const exports_patchbay_connector_llm_list_chat_message_t *messages, pb_error_t *err) {
  if (messages->len == 0) return pb_validation(err, "the conversation is empty");
  yyjson_mut_val *list = yyjson_mut_obj_add_arr(doc, root, "messages");
  for (size_t i = 0; i < messages->len; i++) {
    const chat_message_t *m = &messages->ptr[i];
    yyjson_mut_val *item = yyjson_mut_arr_add_obj(doc, list);
    yyjson_mut_obj_add_str(doc, item, "role", role_name(m->role));
    yyjson_mut_obj_add_val(doc, item, "content", mut_string(doc, &m->content));
    if (m->tool_calls.len > 0) {
      yyjson_mut_val *calls = yyjson_mut_obj_add_arr(doc, item, "tool_calls");
      for (size_t j = 0; j < m->tool_calls.len; j++) {
        const tool_call_t *call = &m->tool_calls.ptr[j];
        yyjson_mut_val *function = yyjson_mut_obj_add_obj(doc, yyjson_mut_arr_add_obj(doc, calls), "function");
        yyjson_mut_obj_add_val(doc, function, "name", mut_string(doc, &call->name));
        yyjson_mut_val *args = parse_json(doc, &call->arguments_json, "the arguments of a tool call", err);
        if (args == NULL) return false;
        yyjson_mut_obj_add_val(doc, function, "arguments", args);
      }
    }
    if (m->role == PATCHBAY_CONNECTOR_LLM_TYPES_CHAT_ROLE_TOOL) {
      const plugin_string_t *name = m->name.is_some ? &m->name.val : NULL;
      if (name == NULL && m->tool_call_id.is_some) name = tool_name_for(messages, i, &m->tool_call_id.val);
      if (name == NULL) {
        return pb_validation(err, "message %zu: a tool result needs `name` or a `tool-call-id` of an earlier tool call", i);
      }
      yyjson_mut_obj_add_val(doc, item, "tool_name", mut_string(doc, name));
    }
  }
  return true;
}

static bool add_options(yyjson_mut_doc *doc, yyjson_mut_val *root, const options_t *options, pb_error_t *err) {
  yyjson_mut_val *opts = yyjson_mut_obj(doc);
  if (options->temperature.is_some) yyjson_mut_obj_add_real(doc, opts, "temperature", options->temperature.val);
  if (options->max_tokens.is_some) yyjson_mut_obj_add_uint(doc, opts, "num_predict", options->max_tokens.val);
  if (options->top_p.is_some) yyjson_mut_obj_add_real(doc, opts, "top_p", options->top_p.val);
  if (options->stop.len > 0) {
    yyjson_mut_val *stop = yyjson_mut_obj_add_arr(doc, opts, "stop");
    for (size_t i = 0; i < options->stop.len; i++) yyjson_mut_arr_append(stop, mut_string(doc, &options->stop.ptr[i]));
  }
  if (yyjson_mut_obj_size(opts) > 0) yyjson_mut_obj_add_val(doc, root, "options", opts);
  if (options->tools.len > 0) {
    yyjson_mut_val *tools = yyjson_mut_obj_add_arr(doc, root, "tools");
    for (size_t i = 0; i < options->tools.len; i++) {
      const patchbay_connector_llm_types_tool_definition_t *tool = &options->tools.ptr[i];
      yyjson_mut_val *entry = yyjson_mut_arr_add_obj(doc, tools);
      yyjson_mut_obj_add_str(doc, entry, "type", "function");
      yyjson_mut_val *function = yyjson_mut_obj_add_obj(doc, entry, "function");
      yyjson_mut_obj_add_val(doc, function, "name", mut_string(doc, &tool->name));
      yyjson_mut_obj_add_val(doc, function, "description", mut_string(doc, &tool->description));
      yyjson_mut_val *parameters = parse_json(doc, &tool->parameters_json, "the parameters of a tool", err);
      if (parameters == NULL) return false;
      yyjson_mut_obj_add_val(doc, function, "parameters", parameters);
    }
  }
  if (options->response_schema.is_some) {
    yyjson_mut_val *schema = parse_json(doc, &options->response_schema.val, "response-schema", err);
    if (schema == NULL) return false;
    yyjson_mut_obj_add_val(doc, root, "format", schema);
  }
  if (options->extra.len > 0) {
    yyjson_mut_val *extra = parse_json(doc, &options->extra, "extra", err);
    if (extra == NULL) return false;
    if (!yyjson_mut_is_obj(extra)) return pb_validation(err, "extra must be a JSON object");
    yyjson_mut_obj_iter iter = yyjson_mut_obj_iter_with(extra);
    yyjson_mut_val *key;
    while ((key = yyjson_mut_obj_iter_next(&iter)) != NULL) {
      yyjson_mut_obj_put(root, key, yyjson_mut_obj_iter_get_val(key));  // e.g. keep_alive, think
    }
  }
  return true;
}

static plugin_string_t copy_str(yyjson_val *value) {
  return pb_str_n(yyjson_get_str(value), yyjson_get_len(value));
}

static bool read_answer(yyjson_val *root, const char *model, llm_response_t *ret, pb_error_t *err) {
  yyjson_val *message = yyjson_obj_get(root, "message");
  if (!yyjson_is_obj(message)) return pb_provider(err, 0, "Ollama's answer has no message");
  memset(ret, 0, sizeof(*ret));
  ret->content = copy_str(yyjson_obj_get(message, "content"));
  yyjson_val *answered = yyjson_obj_get(root, "model");
  ret->model = yyjson_is_str(answered) ? copy_str(answered) : pb_str(model);
  yyjson_val *reason = yyjson_obj_get(root, "done_reason");
  if (yyjson_is_str(reason)) {
    ret->finish_reason.is_some = true;
    ret->finish_reason.val = copy_str(reason);
  }
  yyjson_val *prompt = yyjson_obj_get(root, "prompt_eval_count");
  yyjson_val *eval = yyjson_obj_get(root, "eval_count");
  if (yyjson_is_uint(prompt) || yyjson_is_uint(eval)) {
    ret->usage.is_some = true;
    ret->usage.val.prompt_tokens = (uint32_t)yyjson_get_uint(prompt);
    ret->usage.val.completion_tokens = (uint32_t)yyjson_get_uint(eval);
    ret->usage.val.total_tokens = ret->usage.val.prompt_tokens + ret->usage.val.completion_tokens;
  }
  yyjson_val *calls = yyjson_obj_get(message, "tool_calls");
  size_t count = yyjson_arr_size(calls);
  if (count > 0) {
    ret->tool_calls.len = count;
    ret->tool_calls.ptr = calloc(count, sizeof(tool_call_t));
    size_t index, max;
    yyjson_val *call;
    yyjson_arr_foreach(calls, index, max, call) {
      yyjson_val *function = yyjson_obj_get(call, "function");
      tool_call_t *out = &ret->tool_calls.ptr[index];
      yyjson_val *id = yyjson_obj_get(call, "id");
      char *fallback = pb_format("call_%zu", index);
      out->id = yyjson_is_str(id) ? copy_str(id) : pb_str(fallback);
      free(fallback);
      out->name = copy_str(yyjson_obj_get(function, "name"));
      size_t len = 0;
      char *args = yyjson_val_write(yyjson_obj_get(function, "arguments"), 0, &len);
      out->arguments_json = args ? pb_str_n(args, len) : pb_str("{}");
      free(args);
    }
  }
  return true;
}

bool exports_patchbay_connector_llm_complete(exports_patchbay_connector_llm_list_chat_message_t *messages,
                                             plugin_string_t *maybe_model, options_t *options, llm_response_t *ret,
                                             pb_error_t *err) {
  char *model = maybe_model ? pb_cstr(maybe_model) : pb_setting("default_model");
  if (model == NULL) model = pb_format("%s", DEFAULT_MODEL);
  yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
  yyjson_mut_val *root = yyjson_mut_obj(doc);
  yyjson_mut_doc_set_root(doc, root);
  yyjson_mut_obj_add_strcpy(doc, root, "model", model);
  yyjson_mut_obj_add_bool(doc, root, "stream", false);
  bool ok = add_messages(doc, root, messages, err) && add_options(doc, root, options, err);
  size_t len = 0;
  char *body = ok ? yyjson_mut_write(doc, 0, &len) : NULL;
  yyjson_mut_doc_free(doc);
  if (ok) {
    yyjson_doc *answer = call("POST", "/api/chat", body, len, err);
    ok = answer != NULL && read_answer(yyjson_doc_get_root(answer), model, ret, err);
    yyjson_doc_free(answer);
  }
  free(body);
  free(model);
  return ok;
}

bool exports_patchbay_connector_llm_list_models(exports_patchbay_connector_llm_list_model_info_t *ret, pb_error_t *err) {
  yyjson_doc *doc = call("GET", "/api/tags", NULL, 0, err);
  if (doc == NULL) return false;
  yyjson_val *models = yyjson_obj_get(yyjson_doc_get_root(doc), "models");
  ret->len = yyjson_arr_size(models);
  ret->ptr = ret->len ? calloc(ret->len, sizeof(*ret->ptr)) : NULL;
  size_t index, max;
  yyjson_val *model;
  static const char *const chat[] = {"chat", "tools", NULL};
  yyjson_arr_foreach(models, index, max, model) {
    patchbay_connector_llm_types_model_info_t *out = &ret->ptr[index];
    out->id = copy_str(yyjson_obj_get(model, "name"));
    yyjson_val *details = yyjson_obj_get(model, "details");
    const char *size = yyjson_get_str(yyjson_obj_get(details, "parameter_size"));
    const char *quantization = yyjson_get_str(yyjson_obj_get(details, "quantization_level"));
    char *name = pb_format("%s (%s, %s)", yyjson_get_str(yyjson_obj_get(model, "name")), size ? size : "?",
                           quantization ? quantization : "?");
    out->name = pb_str(name);
    free(name);
    out->capabilities = pb_str_list(chat);
  }
  yyjson_doc_free(doc);
  return true;
}
