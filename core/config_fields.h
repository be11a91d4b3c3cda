// config_fields.h: typed config structs read from, written to and documented
// from JSON, with one list of fields per struct.
//
// A config struct lists its fields once, each with its documentation, beside
// the default in the member initialiser:
//
//   struct RunConfig {
//     std::string name = "run";
//     int seed = 0;
//     template <class V> void fields(V& v) {
//       v.field("name", name, "Run name; the store is runs/<name>/run.db.");
//       v.field("seed", seed, "Seed of every random stream.");
//       v.check(seed >= 0, "seed", "must be >= 0");
//     }
//   };
//   RunConfig c = read_config<RunConfig>(json, origins, "run");
//
// Supported field types: bool, int, int64_t, double, std::string, nested
// config structs, std::optional<T>, std::vector<T>, and nlohmann::json (free
// form, e.g. a reward's own parameters). `choice` restricts a string to a set.
// Reading rejects unknown keys (with "did you mean"), wrong types and failed
// checks with a ConfigError naming the file the key came from and its path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/did_you_mean.h"
#include "core/error.h"

namespace grpo {

// Which file (or "--set …" override) each key path of a recipe came from.
class Origins {
 public:
  explicit Origins(std::string default_file = "") : default_file_(std::move(default_file)) {}
  void set(const std::string& key_path, const std::string& source) { by_path_[key_path] = source; }
  // The source of key_path, or of its closest ancestor, or the default file.
  std::string of(const std::string& key_path) const;
  const std::string& default_file() const { return default_file_; }

 private:
  std::string default_file_;
  std::map<std::string, std::string> by_path_;
};

namespace config_detail {

struct Probe {
  template <class T> void field(const char*, T&, const char*) {}
  void choice(const char*, std::string&, const std::vector<std::string>&, const char*) {}
  void check(bool, const char*, const std::string&) {}
};
template <class T, class = void> struct IsConfig : std::false_type {};
template <class T>
struct IsConfig<T, std::void_t<decltype(std::declval<T&>().fields(std::declval<Probe&>()))>> : std::true_type {};
template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};
template <class T> struct IsVector : std::false_type {};
template <class T> struct IsVector<std::vector<T>> : std::true_type {};

std::string json_type_name(const nlohmann::json& j);
std::string short_dump(const nlohmann::json& j);

template <class T> std::string type_name() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "int";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::string>) return "string";
  else if constexpr (std::is_same_v<T, nlohmann::json>) return "any JSON";
  else if constexpr (IsOptional<T>::value) return type_name<typename T::value_type>() + " or null";
  else if constexpr (IsVector<T>::value) return "list of " + type_name<typename T::value_type>();
  else return "object";
}

}  // namespace config_detail

// Visitor that reads one JSON object into a config struct.
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& object, const Origins& origins, std::string path)
      : object_(object), origins_(origins), path_(std::move(path)) {}

  template <class T> void field(const char* key, T& value, const char* /*doc*/) {
    known_.push_back(key);
    auto it = object_.find(key);
    if (it == object_.end()) return;
    read_value(*it, join(key), value);
  }

  void choice(const char* key, std::string& value, const std::vector<std::string>& choices, const char* doc);

  // Fails with `message` at key when ok is false; the value found is appended.
  void check(bool ok, const char* key, const std::string& message) const;

  // Rejects keys of the object that no field claimed.
  void finish() const;

 private:
  std::string join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  [[noreturn]] void fail(const std::string& key_path, const std::string& message) const {
    throw ConfigError(origins_.of(key_path), key_path, message);
  }
  void expect(const nlohmann::json& j, bool ok, const std::string& key_path, const std::string& want) const {
    if (!ok) fail(key_path, "expected " + want + ", got " + config_detail::json_type_name(j) + " " + config_detail::short_dump(j));
  }

  template <class T> void read_value(const nlohmann::json& j, const std::string& key_path, T& out) const {
    using namespace config_detail;
    if constexpr (std::is_same_v<T, bool>) {
      expect(j, j.is_boolean(), key_path, "true or false");
      out = j.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      bool whole = j.is_number_integer() || (j.is_number_float() && j.get<double>() == static_cast<double>(static_cast<int64_t>(j.get<double>())));
      expect(j, whole, key_path, "an integer");
      int64_t v = j.is_number_float() ? static_cast<int64_t>(j.get<double>()) : j.get<int64_t>();
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) || v > static_cast<int64_t>(std::numeric_limits<T>::max()))
        fail(key_path, "integer " + std::to_string(v) + " is out of range");
      out = static_cast<T>(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      expect(j, j.is_number(), key_path, "a number");
      out = j.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      expect(j, j.is_string(), key_path, "a string");
      out = j.get<std::string>();
    } else if constexpr (std::is_same_v<T, nlohmann::json>) {
      out = j;
    } else if constexpr (IsOptional<T>::value) {
      if (j.is_null()) {
        out.reset();
      } else {
        typename T::value_type v{};
        if (out) v = *out;
        read_value(j, key_path, v);
        out = std::move(v);
      }
    } else if constexpr (IsVector<T>::value) {
      expect(j, j.is_array(), key_path, "a list");
      T result;
      for (size_t i = 0; i < j.size(); ++i) {
        typename T::value_type v{};
        read_value(j[i], key_path + "[" + std::to_string(i) + "]", v);
        result.push_back(std::move(v));
      }
      out = std::move(result);
    } else {
      static_assert(IsConfig<T>::value, "config field type not supported");
      expect(j, j.is_object(), key_path, "an object");
      ConfigReader nested(j, origins_, key_path);
      out.fields(nested);
      nested.finish();
    }
  }

  const nlohmann::json& object_;
  const Origins& origins_;
  std::string path_;
  std::vector<std::string> known_;
};

// Visitor that writes a config struct as JSON (every field, defaults included).
class ConfigWriter {
 public:
  template <class T> void field(const char* key, T& value, const char* /*doc*/) { out_[key] = to_json(value); }
  void choice(const char* key, std::string& value, const std::vector<std::string>&, const char*) { out_[key] = value; }
  void check(bool, const char*, const std::string&) {}
  nlohmann::json take() { return std::move(out_); }

  template <class T> static nlohmann::json to_json(const T& value) {
    using namespace config_detail;
    if constexpr (IsOptional<T>::value) {
      return value ? to_json(*value) : nlohmann::json(nullptr);
    } else if constexpr (IsVector<T>::value) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& v : value) a.push_back(to_json(v));
      return a;
    } else if constexpr (IsConfig<T>::value) {
      ConfigWriter w;
      const_cast<T&>(value).fields(w);  // fields() only reads when visited by a writer
      return w.take();
    } else {
      return nlohmann::json(value);
    }
  }

 private:
  nlohmann::json out_ = nlohmann::json::object();
};

// One documented key of a config: what docs/recipes.md lists.
struct ConfigKeyDoc {
  std::string key_path;  // "learner.epsilon", "rewards[].weight"
  std::string type;      // "number", "list of string", "one of: a, b"
  std::string default_value;  // compact JSON of the default
  std::string doc;
};

// Visitor that lists every key of a config struct with type, default and doc.
class ConfigDocumenter {
 public:
  explicit ConfigDocumenter(std::string path, std::vector<ConfigKeyDoc>* out) : path_(std::move(path)), out_(out) {}

  template <class T> void field(const char* key, T& value, const char* doc) {
    using namespace config_detail;
    std::string path = path_.empty() ? std::string(key) : path_ + "." + key;
    out_->push_back({path, type_name<T>(), ConfigWriter::to_json(value).dump(), doc});
    document_children(path, value);
  }
  void choice(const char* key, std::string& value, const std::vector<std::string>& choices, const char* doc);
  void check(bool, const char*, const std::string&) {}

 private:
  template <class T> void document_children(const std::string& path, T& value) {
    using namespace config_detail;
    if constexpr (IsConfig<T>::value) {
      ConfigDocumenter nested(path, out_);
      value.fields(nested);
    } else if constexpr (IsOptional<T>::value) {
      typename T::value_type v = value ? *value : typename T::value_type{};
      document_children(path, v);
    } else if constexpr (IsVector<T>::value) {
      if constexpr (IsConfig<typename T::value_type>::value) {
        typename T::value_type v{};
        document_children(path + "[]", v);
      }
    }
  }
  std::string path_;
  std::vector<ConfigKeyDoc>* out_;
};

// Reads a config struct from `object` (the value at key path `path` of a
// recipe); starts from T's defaults. Throws ConfigError.
template <class T> T read_config(const nlohmann::json& object, const Origins& origins, const std::string& path = "") {
  T value{};
  if (!object.is_object())
    throw ConfigError(origins.of(path), path, "expected an object, got " + config_detail::json_type_name(object));
  ConfigReader reader(object, origins, path);
  value.fields(reader);
  reader.finish();
  return value;
}

template <class T> nlohmann::json write_config(const T& value) { return ConfigWriter::to_json(value); }

template <class T> std::vector<ConfigKeyDoc> document_config(const std::string& path = "") {
  std::vector<ConfigKeyDoc> out;
  T value{};
  ConfigDocumenter d(path, &out);
  value.fields(d);
  return out;
}

}  // namespace grpo
