#define _GNU_SOURCE
#include "gordon_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Between fork and exec only async-signal-safe calls: no malloc, no locks, no stdio.

static void report_and_exit(int pipe_fd, int error) {
    while (write(pipe_fd, &error, sizeof error) < 0 && errno == EINTR) {}
    _exit(127);
}

static int null_or(int fd, int flags) {
    return fd >= 0 ? fd : open("/dev/null", flags);
}

static void close_inherited_descriptors(void) {
#ifdef SYS_close_range
    // CLOSE_RANGE_CLOEXEC (4): marked, not closed, so the error pipe keeps working.
    if (syscall(SYS_close_range, 3U, ~0U, 4U) == 0) return;
#endif
    struct rlimit limit;
    long last = 4096;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 65536) {
        last = (long)limit.rlim_cur;
    }
    for (long fd = 3; fd < last; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static void child(const gordon_spawn_request *request, int pipe_fd) {
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) report_and_exit(pipe_fd, errno);
    struct sigaction default_action = {0};
    default_action.sa_handler = SIG_DFL;
    for (int signal_number = 1; signal_number < NSIG; signal_number++) {
        if (signal_number != SIGKILL && signal_number != SIGSTOP) sigaction(signal_number, &default_action, NULL);
    }
    if (setpgid(0, 0) != 0) report_and_exit(pipe_fd, errno);

    int in = null_or(request->stdin_fd, O_RDONLY);
    int out = null_or(request->stdout_fd, O_WRONLY);
    int err = null_or(request->stderr_fd, O_WRONLY);
    if (in < 0 || out < 0 || err < 0) report_and_exit(pipe_fd, errno);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) report_and_exit(pipe_fd, errno);

    if (request->set_identity) {
        // Groups first: once the uid is dropped, the groups can no longer be changed.
        if (setgroups(0, NULL) != 0) report_and_exit(pipe_fd, errno);
        if (setgid(request->gid) != 0) report_and_exit(pipe_fd, errno);
        if (setuid(request->uid) != 0) report_and_exit(pipe_fd, errno);
        // A process that could get root back has not dropped it.
        if (request->uid != 0 && setuid(0) == 0) report_and_exit(pipe_fd, EPERM);
    }
    if (request->directory != NULL && chdir(request->directory) != 0) report_and_exit(pipe_fd, errno);
    close_inherited_descriptors();
    execve(request->path, request->argv, request->envp);
    report_and_exit(pipe_fd, errno);
}

int gordon_spawn(const gordon_spawn_request *request, pid_t *pid) {
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) != 0) return errno;
    pid_t forked = fork();
    if (forked < 0) {
        int error = errno;
        close(error_pipe[0]);
        close(error_pipe[1]);
        return error;
    }
    if (forked == 0) {
        close(error_pipe[0]);
        child(request, error_pipe[1]);
    }
    close(error_pipe[1]);
    // exec closes the pipe (O_CLOEXEC): zero bytes read means the child is running the
    // program; an int means it failed before exec and has exited.
    int child_error = 0;
    ssize_t count;
    do {
        count = read(error_pipe[0], &child_error, sizeof child_error);
    } while (count < 0 && errno == EINTR);
    close(error_pipe[0]);
    if (count == (ssize_t)sizeof child_error) {
        int status;
        while (waitpid(forked, &status, 0) < 0 && errno == EINTR) {}
        return child_error != 0 ? child_error : ECHILD;
    }
    *pid = forked;
    return 0;
}

int gordon_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
