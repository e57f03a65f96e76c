#ifndef GORDON_SPAWN_H
#define GORDON_SPAWN_H

#include <sys/types.h>

/// One child process to start. Unset descriptors (-1) become /dev/null.
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    /// Working directory, or NULL to keep the parent's.
    const char *directory;
    /// Non-zero: drop every supplementary group, then setgid(gid) and setuid(uid).
    int set_identity;
    uid_t uid;
    gid_t gid;
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
} gordon_spawn_request;

/// Starts the child in a process group of its own (so a stop reaches everything it started)
/// with every signal unblocked and at its default action. Returns 0 and sets *pid, or the
/// errno of what failed, in the parent or in the child before exec.
int gordon_spawn(const gordon_spawn_request *request, pid_t *pid);

/// pipe2(fds, O_CLOEXEC), which Swift's Glibc module does not export.
int gordon_pipe_cloexec(int fds[2]);

#endif
