#define _GNU_SOURCE 1
#include <fcntl.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CHotPlatform.h"

int hot_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int hot_accept_cloexec(int fd) {
    return accept4(fd, 0, 0, SOCK_CLOEXEC);
}

int hot_spawn_addclosefrom(void *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, from);
}

int hot_pidfd_open(int pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int hot_peer_credentials(int fd, int *pid, unsigned *uid) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    return 0;
}

int hot_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

int hot_wake_fd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int hot_memfd_inherited(const char *name) {
    return memfd_create(name, 0);
}
