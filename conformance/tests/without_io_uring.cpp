// without_io_uring COMMAND [ARG]... — runs COMMAND on a machine that refuses io_uring, the way a
// container's seccomp profile refuses it (Docker's default does): io_uring_setup fails with EPERM,
// every other system call is untouched. The filter is inherited across exec and by every child,
// so the tests can check what a loop author sees where the kernel says no (a clean UNSUPPORTED
// with the reason, never FAIL, ERROR or a crash) on a machine where io_uring works.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

#if defined(__x86_64__)
#define AIOSPEC_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AIOSPEC_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "without_io_uring: add this architecture's AUDIT_ARCH_* value"
#endif

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: without_io_uring COMMAND [ARG]...\n");
    return 2;
  }
  sock_filter filter[] = {
      // Another architecture's system call numbers mean other calls: let them through.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AIOSPEC_AUDIT_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  // Without privileges a filter needs no_new_privs, which exec keeps.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    std::fprintf(stderr, "without_io_uring: cannot install the seccomp filter: %s\n", std::strerror(errno));
    return 2;
  }
  execvp(argv[1], argv + 1);
  std::fprintf(stderr, "without_io_uring: %s: %s\n", argv[1], std::strerror(errno));
  return 2;
}
