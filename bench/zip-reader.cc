// Benchmark: the zip container of torch.save checkpoints read by our reader (native/core/io/torch_zip.cc,
// memory-mapped) against LibTorch's caffe2::serialize::PyTorchStreamReader, the class behind torch.load:
// its getRecord (reads each record into memory) and getRecordOffset + our own mapping, both with data.pkl
// through our allow-list unpickler (which stays whatever reads the container).
//   zip_reader_bench load <ours|ours-no-crc|stream|stream-mmap> FILE   one load in this process: every storage copied
//       into freshly allocated tensors (as a model load does); prints one JSON line with the time, the
//       peak RSS (VmHWM) and the anonymous / file-backed RSS after the copy.
//   zip_reader_bench hostile <ours|stream|stream-mmap> FILE N SEED   N mutated copies of FILE (flipped
//       bytes, extreme header fields, truncations), each read in a forked child; prints one JSON line with
//       how many loaded the original bytes, loaded other bytes (silent corruption), failed with a typed error (trm::Error, c10::Error),
//       with another exception, crashed (a signal) or hung (10 s).
// bench/zip-reader.sh builds it (node scripts/native-tests.js --bench builds the target), runs both on a
// 1.8 GB table and writes bench/results/zip-reader.json.
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/io/mapped_file.h"
#include "core/io/torch_zip.h"
#include "core/io/unpickler.h"

namespace {

double g_peak_anon_mib = 0;

/** A field of /proc/self/status in MiB (VmHWM, RssAnon, RssFile). */
double status_mib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
  return -1;
}

/**
 * The storages of `file` through PyTorchStreamReader: data.pkl from the reader, parsed by our allow-list
 * unpickler (as a swap would keep it), then each storage record the pickle names, passed to `use` with its
 * bytes: read by getRecord (mapped = false) or found by getRecordOffset in our own mapping of the file.
 */
void stream_storages(const std::string& file, bool mapped, const std::function<void(const void*, uint64_t)>& use) {
  caffe2::serialize::PyTorchStreamReader r(file);
  auto [pkl, pkl_size] = r.getRecord("data.pkl");
  trm::io::detail::Unpickler up(static_cast<const uint8_t*>(pkl.get()), pkl_size, "'" + file + "': data.pkl");
  up.run();
  std::shared_ptr<trm::io::MappedFile> map = mapped ? trm::io::MappedFile::open(file) : nullptr;
  for (const auto& s : up.storages()) {
    const std::string name = "data/" + s.key;
    if (!r.hasRecord(name)) throw trm::Error(trm::ErrorCode::CheckpointFormat, "storage record " + name + " is missing");
    const size_t n = r.getRecordSize(name);
    if (n != s.numel * trm::io::dtype_size(s.dtype))
      throw trm::Error(trm::ErrorCode::CheckpointFormat, name + ": size disagrees with the pickle");
    if (mapped) {
      const size_t off = r.getRecordOffset(name);
      if (off > map->size() || n > map->size() - off) throw trm::Error(trm::ErrorCode::CheckpointFormat, name + " lies outside the file");
      use(map->data() + off, n);
    } else {
      auto [data, got] = r.getRecord(name);
      use(data.get(), got);
    }
  }
}

/** Loads every tensor of `file` into new tensors; returns the bytes copied. */
uint64_t load(const std::string& mode, const std::string& file, std::vector<at::Tensor>* keep) {
  uint64_t bytes = 0;
  auto copy = [&](const void* p, uint64_t n) {
    auto dst = at::empty({static_cast<int64_t>(n)}, at::kByte);
    std::memcpy(dst.data_ptr(), p, n);
    keep->push_back(dst);
    bytes += n;
    // Anonymous memory now (the source, if read into memory, is still alive): the part a mapping avoids.
    g_peak_anon_mib = std::max(g_peak_anon_mib, status_mib("RssAnon"));
  };
  if (mode == "ours" || mode == "ours-no-crc") {
    for (const auto& t : trm::io::read_torch_zip(file, mode == "ours")) copy(t.storage, t.storage_nbytes);
  } else if (mode == "stream" || mode == "stream-mmap") {
    stream_storages(file, mode == "stream-mmap", copy);
  } else {
    throw std::runtime_error("unknown mode " + mode);
  }
  return bytes;
}

int run_load(const std::string& mode, const std::string& file) {
  std::vector<at::Tensor> keep;
  const auto t0 = std::chrono::steady_clock::now();
  const uint64_t bytes = load(mode, file, &keep);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "{\"mode\": \"%s\", \"bytes\": %llu, \"seconds\": %.3f, \"peak_rss_mib\": %.0f, \"rss_anon_mib\": %.0f, "
      "\"rss_file_mib\": %.0f, \"peak_anon_mib\": %.0f}\n",
      mode.c_str(), static_cast<unsigned long long>(bytes), secs, status_mib("VmHWM"), status_mib("RssAnon"), status_mib("RssFile"),
      g_peak_anon_mib);
  return 0;
}

/** `good` with one hostile change: flipped bytes, an extreme 2/4/8-byte field at a zip signature, or a cut. */
std::string mutate(const std::string& good, std::mt19937_64& rng) {
  std::string s = good;
  auto pick = [&](uint64_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<size_t> sigs;  // offsets of PK\x01\x02, PK\x03\x04, PK\x05\x06, PK\x06\x06, PK\x06\x07
  for (size_t i = 0; i + 4 <= s.size(); ++i)
    if (s[i] == 'P' && s[i + 1] == 'K' && s[i + 2] < 8 && s[i + 3] < 8) sigs.push_back(i);
  switch (pick(3)) {
    case 0:
      for (int k = 0, n = 1 + static_cast<int>(pick(8)); k < n; ++k) s[pick(s.size())] = static_cast<char>(rng());
      break;
    case 1: {
      const size_t at = sigs.empty() ? pick(s.size()) : sigs[pick(sigs.size())] + 4 + pick(40);
      const int width = 1 << (1 + pick(3));
      const uint64_t values[] = {0, 1, 0x7f, 0xff, 0xffff, 0xffffffffull, 0x7fffffffffffffffull, ~0ull, rng()};
      const uint64_t v = values[pick(9)];
      for (int b = 0; b < width && at + b < s.size(); ++b) s[at + b] = static_cast<char>(v >> (8 * b));
      break;
    }
    default: s.resize(pick(s.size()));
  }
  return s;
}

/** FNV-1a over the bytes of every loaded storage, in order. */
uint64_t digest(const std::vector<at::Tensor>& ts) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& t : ts) {
    const auto* p = t.data_ptr<uint8_t>();
    for (int64_t i = 0; i < t.numel(); ++i) h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ static_cast<uint64_t>(t.numel())) * 1099511628211ull;
  }
  return h;
}

int run_hostile(const std::string& mode, const std::string& file, int n, uint64_t seed) {
  std::ifstream in(file, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::mt19937_64 rng(seed);
  const std::string path = "/tmp/zip-reader-bench-" + std::to_string(getpid());
  std::vector<at::Tensor> ref;
  load(mode, file, &ref);
  const uint64_t want = digest(ref);
  int loaded = 0, corrupt = 0, typed = 0, untyped = 0, crashed = 0, hung = 0;
  for (int i = 0; i < n; ++i) {
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      const auto s = mutate(good, rng);
      out.write(s.data(), static_cast<std::streamsize>(s.size()));
    }
    const pid_t pid = fork();
    if (pid == 0) {
      alarm(10);
      try {
        std::vector<at::Tensor> keep;
        load(mode, path, &keep);
        _exit(digest(keep) == want ? 0 : 4);
      } catch (const trm::Error&) {
        _exit(2);
      } catch (const c10::Error&) {
        _exit(2);
      } catch (...) {
        _exit(3);  // an exception, but not a typed one
      }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
      (WTERMSIG(status) == SIGALRM ? hung : crashed) += 1;
    else if (WEXITSTATUS(status) == 0)
      ++loaded;
    else if (WEXITSTATUS(status) == 2)
      ++typed;
    else if (WEXITSTATUS(status) == 4)
      ++corrupt;
    else
      ++untyped;
  }
  std::remove(path.c_str());
  std::printf(
      "{\"mode\": \"%s\", \"cases\": %d, \"loaded\": %d, \"loaded_wrong_bytes\": %d, \"typed\": %d, \"untyped\": %d, \"crashed\": %d, "
      "\"hung\": %d}\n",
      mode.c_str(), n, loaded, corrupt, typed, untyped, crashed, hung);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() == 3 && a[0] == "load") return run_load(a[1], a[2]);
    if (a.size() == 5 && a[0] == "hostile") return run_hostile(a[1], a[2], std::stoi(a[3]), std::stoull(a[4]));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: zip_reader_bench load <ours|ours-no-crc|stream|stream-mmap> FILE | hostile <ours|stream|stream-mmap> FILE N SEED\n");
  return 2;
}
