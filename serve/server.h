// server.h: grpo serve's HTTP server: OpenAI-compatible /v1/models,
// /v1/completions and /v1/chat/completions (JSON or server-sent events) over
// a Batcher, with an optional API key.
//
//   Server server(options, served, tokenizer, prompt_template, batcher);
//   int port = server.bind();     // options.port 0: any free port
//   server.listen();              // blocks until stop() (from another thread)
//
// Borrows the tokenizer, template and batcher (they must outlive it). Every
// request runs on its own HTTP thread; generation happens on the batcher's.
// cpp-httplib stays out of this header (pimpl): it is a 9,000-line include.
#pragma once

#include <memory>
#include <string>

#include "policies/prompt_template.h"
#include "policies/tokenizer.h"
#include "serve/batcher.h"
#include "serve/generation_plan.h"

namespace grpo::serve {

struct ServerOptions {
  // Address to bind; loopback by default so nothing outside the machine can reach the model.
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free one (bind() returns it).
  int port = 8000;
  // When set, requests need "Authorization: Bearer <api_key>" (401 otherwise).
  std::string api_key;
  // HTTP threads: the most requests served at once (each waits on the batcher).
  int http_threads = 64;
};

class Server {
 public:
  Server(ServerOptions options, ServedModel model, const policies::Tokenizer& tokenizer,
         const policies::PromptTemplate& prompt_template, Batcher& batcher);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the socket; returns the port. Throws grpo::Error when it cannot.
  int bind();
  // Serves until stop(); requires bind().
  void listen();
  // Stops listen() from any thread; open requests finish first. A call
  // before listen() is running does nothing (call again).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grpo::serve
