// The few libc calls that Glibc's Swift module does not expose, because
// glibc declares them only under _GNU_SOURCE or behind a syscall number.
// The header includes no system header, so that it cannot clash with the
// Glibc module's view of them; shim.c defines each function.
#ifndef C_HOT_PLATFORM_H
#define C_HOT_PLATFORM_H

/// pipe2(2) with O_CLOEXEC: both ends close-on-exec from the moment they exist.
int hot_pipe_cloexec(int fds[2]);

/// accept4(2) with SOCK_CLOEXEC: the accepted descriptor is never inherited.
int hot_accept_cloexec(int fd);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34) on a
/// `posix_spawn_file_actions_t *`: the child closes every descriptor from
/// `from` up, without the parent touching any of them.
int hot_spawn_addclosefrom(void *actions, int from);

/// pidfd_open(2) (Linux 5.3): a close-on-exec descriptor that polls readable
/// when the child has ended; -1 where the kernel lacks it.
int hot_pidfd_open(int pid);

/// getsockopt(SO_PEERCRED) on a Unix socket: the connecting process's pid
/// and uid as of its connect(2); -1 on failure.
int hot_peer_credentials(int fd, int *pid, unsigned *uid);

/// setpriority(2) of the calling thread alone (its kernel task id, which
/// gettid gives): the threads and processes it starts from then on inherit
/// the nice value; 0 on success.
int hot_set_thread_nice(int nice);

/// eventfd(2), close-on-exec and non-blocking: a descriptor another thread
/// writes to in order to wake a poll.
int hot_wake_fd(void);

/// memfd_create(2) without close-on-exec: an anonymous file an exec'd
/// process inherits (a node's compaction hands its state over in one).
int hot_memfd_inherited(const char *name);

/// ThreadSanitizer's own interface, defined by its runtime: a lock's hold
/// made visible where the lock itself is not (HotPlatform's Locked). Only a
/// build for `make tsan` calls them, so no other build needs their definition.
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

#endif
