#ifndef FIELDPROOF_CLINUXSUPPORT_SHIM_H
#define FIELDPROOF_CLINUXSUPPORT_SHIM_H
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

// Names the calling thread (at most 15 characters), so it shows up in /proc
// and `top -H`. prctl(2) is variadic; pthread_setname_np needs _GNU_SOURCE.
static inline int fieldproof_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

// Caps glibc's malloc arenas (mallopt(3) M_ARENA_MAX; <malloc.h> is not
// part of Swift's Glibc module). Returns 1 on success.
static inline int fieldproof_limit_malloc_arenas(int arenas) {
    return mallopt(M_ARENA_MAX, arenas);
}

// Returns free heap pages to the kernel, also those below the top of the
// heap (malloc_trim(3)). Returns 1 when memory was released.
static inline int fieldproof_release_free_heap_pages(void) {
    return malloc_trim(0);
}

// The kernel's id of the calling thread (gettid() needs _GNU_SOURCE;
// syscall(2) is variadic).
static inline int fieldproof_current_thread_id(void) {
    return (int)syscall(SYS_gettid);
}

// 1 when the kernel clock is synchronised (an NTP/PTP daemon disciplines it:
// STA_UNSYNC clear), 0 when not, -1 when adjtimex fails. <sys/timex.h> is
// not part of Swift's Glibc module.
static inline int fieldproof_clock_synchronised(void) {
    struct timex state = {0};
    int rc = adjtimex(&state);
    if (rc < 0) return -1;
    return (rc != TIME_ERROR && !(state.status & STA_UNSYNC)) ? 1 : 0;
}
#endif
