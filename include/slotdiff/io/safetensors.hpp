// slotdiff/io/safetensors.hpp: a strict, memory-mapped reader of safetensors files.
//
// Format (https://github.com/huggingface/safetensors): 8 bytes little-endian N, then N bytes of JSON
// header, then the data. The header maps tensor names to {"dtype", "shape", "data_offsets": [b, e]}
// (offsets relative to the data), plus an optional "__metadata__" object of string -> string.
//
// Everything is validated before any tensor is handed out: N within bounds and inside the file, the
// header valid JSON that starts with '{', no duplicate keys, known dtypes, non-negative shapes whose
// byte size (checked for overflow) equals e - b, every range inside the data, no two ranges
// overlapping and no bytes left unclaimed (the format forbids holes). Any violation throws
// safetensors_error naming the file, the tensor and the offending value.
//
//     const auto f = slotdiff::safetensors_file::open("model.safetensors");
//     std::vector<float> w = f.read_f32("embed.weight", {8192, 256});
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "slotdiff/error.hpp"

namespace slotdiff {

/// Element types of the safetensors format.
enum class st_dtype : std::uint8_t { boolean, u8, i8, i16, u16, f16, bf16, i32, u32, f32, f64, i64, u64 };

/// The format's name of a dtype ("F32", ...).
constexpr std::string_view st_dtype_name(st_dtype t) noexcept {
  constexpr std::string_view names[] = {"BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"};
  return names[static_cast<std::size_t>(t)];
}

/// Bytes per element.
constexpr std::size_t st_dtype_size(st_dtype t) noexcept {
  constexpr std::size_t sizes[] = {1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};
  return sizes[static_cast<std::size_t>(t)];
}

/// The dtype of a format name, or nothing.
constexpr std::optional<st_dtype> st_dtype_from_name(std::string_view s) noexcept {
  for (std::size_t i = 0; i <= static_cast<std::size_t>(st_dtype::u64); ++i)
    if (st_dtype_name(static_cast<st_dtype>(i)) == s) return static_cast<st_dtype>(i);
  return std::nullopt;
}

namespace detail {

/// A read-only POSIX memory map of a whole file; unmapped on destruction. Move-only.
class mapped_file {
public:
  mapped_file() = default;
  /// Throws: safetensors_error if the file cannot be opened, stat'ed or mapped.
  explicit mapped_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw safetensors_error("safetensors: cannot open " + path.string() + ": " + std::strerror(errno));
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      throw safetensors_error("safetensors: cannot stat " + path.string() + ": " + std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      throw safetensors_error("safetensors: " + path.string() + " is not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        throw safetensors_error("safetensors: cannot map " + path.string() + ": " + std::strerror(e));
      }
      data_ = static_cast<const std::byte*>(p);
    }
    ::close(fd);  // the mapping keeps the file alive
  }
  mapped_file(mapped_file&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  mapped_file& operator=(mapped_file&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file() { reset(); }

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  std::size_t size() const noexcept { return size_; }

private:
  void reset() noexcept {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
  }
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail

/// One tensor of a safetensors file: a validated view into the mapped data.
struct st_tensor {
  std::string name;
  st_dtype dtype = st_dtype::f32;
  std::vector<std::size_t> shape;
  std::size_t begin = 0, end = 0;  ///< byte range relative to the data section
  std::span<const std::byte> bytes;  ///< the tensor's bytes (may be unaligned; copy before typed use)

  std::size_t element_count() const noexcept {
    std::size_t n = 1;
    for (std::size_t s : shape) n *= s;
    return n;
  }
};

/// Limits the reader enforces.
struct safetensors_options {
  std::size_t max_header_bytes = 100u << 20;  ///< the format's own limit is 100 MB
};

/// A validated safetensors file, memory-mapped for its lifetime.
class safetensors_file {
public:
  /// Maps and validates `path`.
  /// Throws: safetensors_error naming the file and the first problem found.
  /// Complexity: O(header size + T log T) for T tensors; the data is not touched.
  static safetensors_file open(const std::filesystem::path& path, const safetensors_options& opt = {}) {
    safetensors_file f;
    f.name_ = path.string();
    f.map_ = detail::mapped_file(path);
    f.parse(opt);
    return f;
  }

  const std::string& name() const noexcept { return name_; }
  /// The "__metadata__" entries (empty if the file has none).
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  /// A metadata value; throws safetensors_error naming the key if it is missing.
  const std::string& metadata(std::string_view key) const {
    const auto it = metadata_.find(std::string(key));
    if (it == metadata_.end()) throw safetensors_error("safetensors: " + name_ + ": metadata has no \"" + std::string(key) + "\"");
    return it->second;
  }
  /// Tensors in name order.
  const std::vector<st_tensor>& tensors() const noexcept { return tensors_; }

  const st_tensor* find(std::string_view tensor) const noexcept {
    const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), tensor,
                                     [](const st_tensor& t, std::string_view n) { return t.name < n; });
    return it != tensors_.end() && it->name == tensor ? &*it : nullptr;
  }

  /// The tensor `tensor`, checked to have `dtype` and, if `shape` is not empty, that shape.
  /// Throws: safetensors_error naming the tensor and what differs.
  const st_tensor& at(std::string_view tensor, st_dtype dtype, std::span<const std::size_t> shape = {}) const {
    const st_tensor* t = find(tensor);
    if (!t) throw safetensors_error("safetensors: " + name_ + " has no tensor \"" + std::string(tensor) + "\"");
    if (t->dtype != dtype)
      throw safetensors_error("safetensors: " + name_ + ": tensor \"" + t->name + "\" is " + std::string(st_dtype_name(t->dtype)) +
                              ", expected " + std::string(st_dtype_name(dtype)));
    if (!shape.empty() && !std::equal(shape.begin(), shape.end(), t->shape.begin(), t->shape.end()))
      throw safetensors_error("safetensors: " + name_ + ": tensor \"" + t->name + "\" has shape " + shape_text(t->shape) +
                              ", expected " + shape_text({shape.begin(), shape.end()}));
    return *t;
  }

  /// Copies a tensor of element type T (its dtype must match T) into a vector.
  template <class T>
  std::vector<T> read(std::string_view tensor, st_dtype dtype, std::initializer_list<std::size_t> shape = {}) const {
    const std::vector<std::size_t> s(shape);
    const st_tensor& t = at(tensor, dtype, s);
    if (sizeof(T) != st_dtype_size(dtype)) throw safetensors_error("safetensors: element size mismatch reading " + t.name);
    std::vector<T> out(t.element_count());
    if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
  }
  std::vector<float> read_f32(std::string_view tensor, std::initializer_list<std::size_t> shape = {}) const {
    return read<float>(tensor, st_dtype::f32, shape);
  }

  static std::string shape_text(const std::vector<std::size_t>& s) {
    std::string r = "[";
    for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  }

private:
  [[noreturn]] void fail(const std::string& what) const { throw safetensors_error("safetensors: " + name_ + ": " + what); }

  /// Validates the whole file in the order the format reads: length prefix, JSON header, each entry,
  /// then the tiling of the data section. The first problem throws (see the file comment).
  void parse(const safetensors_options& opt) {
    const auto bytes = map_.bytes();
    const std::uint64_t n = header_length(bytes, opt);
    const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8, static_cast<std::size_t>(n));
    const nlohmann::json j = parse_header(header);
    const std::size_t data_size = bytes.size() - 8 - static_cast<std::size_t>(n);
    const std::byte* data = bytes.data() + 8 + n;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "__metadata__")
        read_metadata(it.value());
      else
        tensors_.push_back(read_tensor_entry(it.key(), it.value(), data, data_size));
    }
    check_ranges_tile_data(data_size);
    std::sort(tensors_.begin(), tensors_.end(), [](const st_tensor& a, const st_tensor& b) { return a.name < b.name; });
  }

  /// The little-endian u64 header length N, checked against the limit and the file size.
  std::uint64_t header_length(std::span<const std::byte> bytes, const safetensors_options& opt) const {
    if (bytes.size() < 8) fail("file is " + std::to_string(bytes.size()) + " bytes, too short for the 8-byte header length");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)]);
    if (n < 2) fail("header length " + std::to_string(n) + " is too small for a JSON object");
    if (n > opt.max_header_bytes) fail("header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(opt.max_header_bytes));
    if (n > bytes.size() - 8)
      fail("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(bytes.size()) + " bytes; truncated?)");
    return n;
  }

  /// The header as a JSON object. Duplicate keys, which the parser would silently merge, are refused:
  /// a parser callback records the keys seen at each object depth.
  nlohmann::json parse_header(std::string_view header) const {
    if (header.front() != '{') fail("header does not start with '{'");
    std::vector<std::set<std::string>> keys_at_depth;
    std::optional<std::string> duplicate;
    const nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
      using pe = nlohmann::json::parse_event_t;
      const auto d = static_cast<std::size_t>(depth);
      if (ev == pe::object_start) {
        if (keys_at_depth.size() <= d + 1) keys_at_depth.resize(d + 2);
        keys_at_depth[d + 1].clear();
      } else if (ev == pe::key && parsed.is_string()) {
        if (keys_at_depth.size() <= d) keys_at_depth.resize(d + 1);
        if (!keys_at_depth[d].insert(parsed.get<std::string>()).second && !duplicate) duplicate = parsed.get<std::string>();
      }
      return true;
    };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(header.begin(), header.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const nlohmann::json::exception& e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (duplicate) fail("header has the key \"" + *duplicate + "\" more than once");
    if (!j.is_object()) fail("header is not a JSON object");
    return j;
  }

  /// The "__metadata__" object: string -> string only.
  void read_metadata(const nlohmann::json& v) {
    if (!v.is_object()) fail("\"__metadata__\" is not an object");
    for (auto m = v.begin(); m != v.end(); ++m) {
      if (!m.value().is_string()) fail("metadata \"" + m.key() + "\" is not a string");
      metadata_[m.key()] = m.value().get<std::string>();
    }
  }

  /// One tensor entry: only the three known fields, a known dtype, a shape whose byte size does not
  /// overflow, and data_offsets inside the data section that hold exactly that many bytes.
  st_tensor read_tensor_entry(const std::string& key, const nlohmann::json& v, const std::byte* data, std::size_t data_size) const {
    const std::string where = "tensor \"" + key + "\"";
    if (!v.is_object()) fail(where + " is not an object");
    for (auto f = v.begin(); f != v.end(); ++f)
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets") fail(where + " has an unknown field \"" + f.key() + "\"");
    st_tensor t;
    t.name = key;
    t.dtype = entry_dtype(where, v);
    const std::size_t want = entry_shape_bytes(where, v, t);
    const auto [b, e] = entry_offsets(where, v, data_size);
    if (e - b != want)
      fail(where + " is " + std::string(st_dtype_name(t.dtype)) + " " + shape_text(t.shape) + " = " + std::to_string(want) +
           " bytes, but data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] hold " + std::to_string(e - b));
    t.begin = static_cast<std::size_t>(b);
    t.end = static_cast<std::size_t>(e);
    t.bytes = {data + b, static_cast<std::size_t>(e - b)};
    return t;
  }

  st_dtype entry_dtype(const std::string& where, const nlohmann::json& v) const {
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail(where + " has no string \"dtype\"");
    const auto dt = st_dtype_from_name(v["dtype"].get<std::string>());
    if (!dt) fail(where + " has an unknown dtype \"" + v["dtype"].get<std::string>() + "\"");
    return *dt;
  }

  /// Fills t.shape from the entry and returns its byte size (t.dtype must be set).
  std::size_t entry_shape_bytes(const std::string& where, const nlohmann::json& v, st_tensor& t) const {
    if (!v.contains("shape") || !v["shape"].is_array()) fail(where + " has no \"shape\" array");
    std::size_t count = 1;
    bool overflow = false;
    for (const auto& s : v["shape"]) {
      if (!s.is_number_unsigned()) fail(where + " has a shape entry " + s.dump() + " that is not a non-negative integer");
      const auto d = s.get<std::uint64_t>();
      t.shape.push_back(static_cast<std::size_t>(d));
      if (d != 0 && count > SIZE_MAX / d) overflow = true;
      count *= static_cast<std::size_t>(d);
    }
    if (overflow || count > SIZE_MAX / st_dtype_size(t.dtype)) fail(where + " has a shape " + shape_text(t.shape) + " whose byte size overflows");
    return count * st_dtype_size(t.dtype);
  }

  /// The entry's [begin, end) byte range, ordered and inside the data section.
  std::pair<std::uint64_t, std::uint64_t> entry_offsets(const std::string& where, const nlohmann::json& v, std::size_t data_size) const {
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      fail(where + " has no \"data_offsets\" pair");
    for (const auto& o : v["data_offsets"])
      if (!o.is_number_unsigned()) fail(where + " has a data offset " + o.dump() + " that is not a non-negative integer");
    const auto b = v["data_offsets"][0].get<std::uint64_t>(), e = v["data_offsets"][1].get<std::uint64_t>();
    if (e < b) fail(where + " has data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] that end before they begin");
    if (e > data_size)
      fail(where + " has data_offsets [" + std::to_string(b) + ", " + std::to_string(e) + "] outside the " + std::to_string(data_size) +
           " data bytes (truncated file?)");
    return {b, e};
  }

  /// Ranges must tile the data exactly: sorted by offset, each begins where the previous ended.
  void check_ranges_tile_data(std::size_t data_size) const {
    std::vector<const st_tensor*> by_offset;
    for (const auto& t : tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const st_tensor* a, const st_tensor* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::size_t at = 0;
    for (std::size_t i = 0; i < by_offset.size(); ++i) {
      const st_tensor& t = *by_offset[i];
      if (t.begin < at)
        fail("tensor \"" + t.name + "\" [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + ") overlaps tensor \"" +
             by_offset[i - 1]->name + "\" [" + std::to_string(by_offset[i - 1]->begin) + ", " + std::to_string(by_offset[i - 1]->end) + ")");
      if (t.begin > at) fail("data bytes [" + std::to_string(at) + ", " + std::to_string(t.begin) + ") belong to no tensor");
      at = t.end;
    }
    if (at != data_size)
      fail("data bytes [" + std::to_string(at) + ", " + std::to_string(data_size) + ") belong to no tensor (trailing garbage?)");
  }

  std::string name_;
  detail::mapped_file map_;
  std::map<std::string, std::string> metadata_;
  std::vector<st_tensor> tensors_;
};

}  // namespace slotdiff
