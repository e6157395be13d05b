#include "tests/stream/tool_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/base/status_macros.h"
#include "tests/common/test_data.h"

extern char** environ;

namespace ggufkit::stream::testing {

ToolRun RunDequantTool(const std::vector<std::string>& args) {
  ToolRun run;
  const std::string tool = ::ggufkit::testing::ToolsDir() + "/gguf-dequant";
  char log_template[] = "/tmp/gguf_dequant_log_XXXXXX";
  const int log_fd = mkstemp(log_template);
  if (log_fd < 0) return run;
  std::vector<std::string> argv_storage = {tool};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == 0) {
    int status = 0;
    struct rusage usage;
    std::memset(&usage, 0, sizeof(usage));
    if (wait4(pid, &status, 0, &usage) == pid) {
      run.max_rss_kb = usage.ru_maxrss;
      if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
    }
  } else {
    run.output = absl::StrCat("posix_spawn failed: ", std::strerror(rc));
  }
  close(log_fd);
  std::ifstream log(log_template);
  run.output += std::string(std::istreambuf_iterator<char>(log), {});
  unlink(log_template);
  return run;
}

namespace {

// Reference value bits of `n` elements of `type` (whole blocks) as `to`.
absl::Status ReferenceDense(GgmlType type, const uint8_t* in, int64_t n, OutputType to,
                            std::vector<uint8_t>* out) {
  std::vector<float> f(static_cast<size_t>(n));
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(f.data(), in, static_cast<size_t>(n) * 4);
      break;
    case GgmlType::kF16:
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in + i * 2, 2);
        f[static_cast<size_t>(i)] = type == GgmlType::kF16 ? F16ToF32(h) : BF16ToF32(h);
      }
      break;
    default: {
      const ReferenceCodec& codec = GetReferenceCodec(type);
      if (codec.dequantize == nullptr) {
        return absl::UnimplementedError(absl::StrCat("no reference for ", GgmlTypeName(type)));
      }
      codec.dequantize(in, f.data(), n);
    }
  }
  out->resize(static_cast<size_t>(n) * OutputElementBytes(to));
  for (int64_t i = 0; i < n; ++i) {
    const float v = f[static_cast<size_t>(i)];
    if (to == OutputType::kF32) {
      std::memcpy(out->data() + i * 4, &v, 4);
    } else {
      const uint16_t h = to == OutputType::kF16 ? F32ToF16(v) : F32ToBF16(v);
      std::memcpy(out->data() + i * 2, &h, 2);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CompareWithReference(const std::string& in_path, const std::string& out_path,
                                  OutputType to, const std::vector<std::string>& names) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufReader> in, GgufReader::Open(in_path));
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufReader> out, GgufReader::Open(out_path));
  std::vector<const TensorInfo*> expected;
  for (const TensorInfo& t : in->tensors()) {
    if (names.empty() || std::find(names.begin(), names.end(), t.name) != names.end()) {
      expected.push_back(&t);
    }
  }
  if (out->tensors().size() != expected.size()) {
    return absl::InternalError(absl::StrCat("output has ", out->tensors().size(),
                                            " tensors, expected ", expected.size()));
  }
  std::vector<uint8_t> in_buf, out_buf, want;
  for (size_t i = 0; i < expected.size(); ++i) {
    const TensorInfo& a = *expected[i];
    const TensorInfo& b = out->tensors()[i];
    if (a.name != b.name || a.ne != b.ne || a.n_dims != b.n_dims) {
      return absl::InternalError(absl::StrCat("tensor ", i, ": '", b.name,
                                              "' differs in name or shape from '", a.name, "'"));
    }
    const TypeTraits& traits = GetTypeTraits(a.type);
    const bool copied = traits.kind == TypeKind::kInteger || a.type == DenseGgmlType(to);
    const GgmlType want_type = copied ? a.type : DenseGgmlType(to);
    if (b.type != want_type) {
      return absl::InternalError(absl::StrCat("tensor '", a.name, "' is ", GgmlTypeName(b.type),
                                              ", expected ", GgmlTypeName(want_type)));
    }
    // Walk in chunks of 64 blocks' worth of elements (x rows when small).
    const int64_t step = std::max<int64_t>(traits.block_size * 64, 4096) / traits.block_size *
                         traits.block_size;
    for (int64_t e = 0; e < a.n_elements; e += step) {
      const int64_t n = std::min(step, a.n_elements - e);
      const uint64_t in_off = static_cast<uint64_t>(e / traits.block_size * traits.type_size);
      in_buf.resize(static_cast<size_t>(n / traits.block_size * traits.type_size));
      GGUFKIT_RETURN_IF_ERROR(in->ReadTensorBytes(a, in_off, in_buf.data(), in_buf.size()));
      if (copied) {
        want = in_buf;
      } else {
        GGUFKIT_RETURN_IF_ERROR(ReferenceDense(a.type, in_buf.data(), n, to, &want));
      }
      const uint64_t out_elem = copied ? 0 : OutputElementBytes(to);
      const uint64_t out_off = copied ? in_off : static_cast<uint64_t>(e) * out_elem;
      out_buf.resize(want.size());
      GGUFKIT_RETURN_IF_ERROR(out->ReadTensorBytes(b, out_off, out_buf.data(), out_buf.size()));
      if (out_buf != want) {
        size_t k = 0;
        while (k < want.size() && want[k] == out_buf[k]) ++k;
        return absl::InternalError(absl::StrCat("tensor '", a.name, "' differs at byte ",
                                                out_off + k, " of its output"));
      }
    }
  }
  return absl::OkStatus();
}

bool FilesEqual(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 20), bb(1 << 20);
  for (;;) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    const std::streamsize na = fa.gcount(), nb = fb.gcount();
    if (na != nb) return false;
    if (std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) != 0) return false;
    if (na == 0) return true;
  }
}

bool FileExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<std::string>> WriteSplitCopy(const std::string& in,
                                                        const std::string& prefix,
                                                        int64_t max_tensors_per_shard) {
  GGUFKIT_ASSIGN_OR_RETURN(auto model, GgufModel::Open(in));
  SplitOptions options;
  options.max_tensors_per_shard = max_tensors_per_shard;
  GgufSplitWriter split(options);
  for (const MetadataEntry& e : model->metadata().entries()) {
    GGUFKIT_RETURN_IF_ERROR(split.metadata().Set(e.key, e.value));
  }
  for (const TensorInfo& t : model->tensors()) {
    GGUFKIT_RETURN_IF_ERROR(
        split.AddTensor(t.name, t.type, absl::MakeConstSpan(t.ne.data(), t.n_dims)));
  }
  GGUFKIT_RETURN_IF_ERROR(split.Begin(prefix));
  std::vector<uint8_t> buf;
  for (const TensorInfo& t : model->tensors()) {
    buf.resize(t.size_bytes);
    GGUFKIT_RETURN_IF_ERROR(model->ReadTensorBytes(t, 0, buf.data(), buf.size()));
    GGUFKIT_RETURN_IF_ERROR(split.WriteTensorData(buf.data(), buf.size()));
  }
  GGUFKIT_RETURN_IF_ERROR(split.Finish());
  return split.shard_paths();
}

}  // namespace ggufkit::stream::testing
