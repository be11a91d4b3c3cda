#include "serve/server.h"

#include <httplib.h>

#include <atomic>
#include <random>

#include "core/error.h"
#include "core/log.h"
#include "serve/openai_response.h"
#include "serve/stream_text.h"

namespace grpo::serve {

namespace {

using nlohmann::json;

constexpr size_t kMaxBodyBytes = 16 << 20;  // larger bodies get 413, never a parse

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status, error_body(e)); }

// One streamed response: the job, and the text already sent per choice.
struct StreamState {
  std::shared_ptr<Job> job;
  ResponseHeader header;
  int n = 1;
  bool include_usage = false;
  Usage usage;
  std::vector<StreamText> texts;  // by choice index
  bool started = false;
};

// Server-sent events of whatever the job produced since the last call; the
// last call adds the usage chunk (when asked) and "[DONE]".
std::string next_stream_events(StreamState& s, bool& done) {
  std::string out;
  if (!s.started) {
    s.started = true;
    if (s.header.kind == ApiKind::kChat)
      for (size_t i = 0; i < s.texts.size(); ++i) out += sse_event(role_chunk_body(s.header, static_cast<int>(i)));
  }
  try {
    std::vector<JobEvent> events = s.job->next_events();
    done = events.empty();
    for (JobEvent& e : events) {
      int choice = static_cast<int>(e.group) * s.n + e.index;
      if (!e.finished) {
        std::string piece = s.texts[choice].push(e.token);
        if (!piece.empty()) out += sse_event(chunk_body(s.header, choice, piece, std::nullopt));
        continue;
      }
      s.usage.completion_tokens += static_cast<int64_t>(e.finished->ids.size());
      std::string piece = s.texts[choice].finish(e.finished->text);
      out += sse_event(chunk_body(s.header, choice, piece, e.finished->finish_reason));
    }
  } catch (const std::exception& ex) {
    // Headers are gone already; OpenAI's clients read an error object in the stream.
    out += sse_event(error_body(ApiError(500, "server_error", "", ex.what())));
    done = true;
  }
  if (done) {
    if (s.include_usage) out += sse_event(usage_chunk_body(s.header, s.usage));
    out += sse_done();
  }
  return out;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  ServedModel model;
  const policies::Tokenizer& tokenizer;
  const policies::PromptTemplate& prompt_template;
  Batcher& batcher;
  httplib::Server http;
  int port = 0;
  std::atomic<bool> stopped{false};

  Impl(ServerOptions o, ServedModel m, const policies::Tokenizer& t, const policies::PromptTemplate& p, Batcher& b)
      : options(std::move(o)), model(std::move(m)), tokenizer(t), prompt_template(p), batcher(b) {
    int threads = options.http_threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http.set_payload_max_length(kMaxBodyBytes);
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) { return authorize(req, res); });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) { send_json(res, 200, models()); });
    http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) { get_model(req.matches[1], res); });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { complete(req, res, ApiKind::kCompletion); });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { complete(req, res, ApiKind::kChat); });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) { fill_error(req, res); });
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      send_error(res, ApiError(500, "server_error", "", what));
    });
  }

  httplib::Server::HandlerResponse authorize(const httplib::Request& req, httplib::Response& res) const {
    if (options.api_key.empty() || req.get_header_value("Authorization") == "Bearer " + options.api_key)
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(401, "invalid_request_error", "", "Incorrect API key provided: pass it as 'Authorization: Bearer KEY'",
                             "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  }

  // Statuses httplib sets itself (404 no route, 413 too large, 400 bad HTTP) get OpenAI-shaped bodies too.
  static void fill_error(const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 404   ? "Unknown request URL: " + req.method + " " + req.path
                          : res.status == 413 ? "request body larger than " + std::to_string(kMaxBodyBytes) + " bytes"
                                              : "HTTP error " + std::to_string(res.status);
    send_error(res, ApiError(res.status, "invalid_request_error", "", message, res.status == 404 ? "unknown_url" : ""));
  }

  json model_card() const { return {{"id", model.name}, {"object", "model"}, {"created", 0}, {"owned_by", "grpo"}}; }
  json models() const { return {{"object", "list"}, {"data", json::array({model_card()})}}; }

  void get_model(const std::string& id, httplib::Response& res) const {
    if (id == model.name) return send_json(res, 200, model_card());
    send_error(res, unknown_model(id));
  }

  ApiError unknown_model(const std::string& id) const {
    return ApiError(404, "invalid_request_error", "model", "The model `" + id + "` does not exist; this server serves `" + model.name + "`",
                    "model_not_found");
  }

  void complete(const httplib::Request& req, httplib::Response& res, ApiKind kind) {
    try {
      ApiRequest r = parse_completion_request(req.body, kind);
      if (r.model != model.name) throw unknown_model(r.model);
      uint64_t seed = r.seed ? *r.seed : std::random_device{}();
      GenerationPlan plan = plan_generation(r, seed, model, tokenizer, prompt_template);
      auto job = std::make_shared<Job>(plan.groups, r.stream);
      batcher.submit(job);
      ResponseHeader header = new_response_header(kind, model.name);
      if (r.stream) return stream(res, std::move(job), header, r, plan);
      std::vector<rollout::GroupResult> results = job->wait_result();
      Usage usage{plan.prompt_tokens, 0};
      for (const auto& g : results)
        for (const auto& c : g.completions) usage.completion_tokens += static_cast<int64_t>(c.ids.size());
      send_json(res, 200, completion_body(header, results, usage));
    } catch (const ApiError& e) {
      send_error(res, e);
    } catch (const Error& e) {
      GRPO_LOG_ERROR("serve", req.path << ": " << e.what());
      send_error(res, ApiError(500, "server_error", "", e.what()));
    }
  }

  void stream(httplib::Response& res, std::shared_ptr<Job> job, const ResponseHeader& header, const ApiRequest& r,
              const GenerationPlan& plan) {
    auto state = std::make_shared<StreamState>();
    state->job = std::move(job);
    state->header = header;
    state->n = r.n;
    state->include_usage = r.include_usage;
    state->usage.prompt_tokens = plan.prompt_tokens;
    auto decode = [this](const std::vector<int64_t>& ids) {
      return tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), /*skip_special_tokens=*/true);
    };
    for (size_t i = 0; i < plan.groups.size() * static_cast<size_t>(r.n); ++i) state->texts.emplace_back(decode, plan.longest_stop_bytes);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [state](size_t, httplib::DataSink& sink) {
      bool done = false;
      std::string events = next_stream_events(*state, done);
      if (!events.empty() && !sink.write(events.data(), events.size())) return false;  // client went away
      if (done) sink.done();
      return true;
    });
  }
};

Server::Server(ServerOptions options, ServedModel model, const policies::Tokenizer& tokenizer,
               const policies::PromptTemplate& prompt_template, Batcher& batcher)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(model), tokenizer, prompt_template, batcher)) {}

Server::~Server() { stop(); }

int Server::bind() {
  const ServerOptions& o = impl_->options;
  if (o.port == 0) impl_->port = impl_->http.bind_to_any_port(o.host);
  else impl_->port = impl_->http.bind_to_port(o.host, o.port) ? o.port : -1;
  if (impl_->port <= 0)
    throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (address in use or not local?); pick another --port");
  return impl_->port;
}

void Server::listen() {
  if (impl_->port <= 0) throw Error("Server::listen before bind()");
  impl_->http.listen_after_bind();
}

void Server::stop() {
  // Once only: httplib's stop() asserts on a second call while listen() unwinds.
  if (impl_->http.is_running() && !impl_->stopped.exchange(true)) impl_->http.stop();
}

}  // namespace grpo::serve
