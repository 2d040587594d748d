#ifndef FIELDPROOF_CMOSQUITTO_SHIM_H
#define FIELDPROOF_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// Names the calling thread (at most 15 characters), so the MQTT network
// thread shows up in /proc and `top -H`. prctl(2) is variadic and
// pthread_setname_np needs _GNU_SOURCE, neither of which Swift can reach.
static inline int fieldproof_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

// The kernel's id of the calling thread (glibc's gettid() needs _GNU_SOURCE;
// syscall(2) is variadic).
static inline int fieldproof_current_thread_id(void) {
    return (int)syscall(SYS_gettid);
}
#endif
