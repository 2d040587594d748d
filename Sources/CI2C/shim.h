#ifndef FIELDPROOF_CI2C_SHIM_H
#define FIELDPROOF_CI2C_SHIM_H

#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <i2c/smbus.h>
#include <sys/ioctl.h>
#include <stdint.h>

// ioctl(2) is variadic, and Swift cannot call variadic C functions, so every
// ioctl this project needs goes through one of these shims.

/// Selects the slave address for plain read(2)/write(2) on an i2c-dev fd.
static inline int fieldproof_i2c_set_slave(int fd, long address) {
    return ioctl(fd, I2C_SLAVE, address);
}

/// Reads the adapter's functionality bits (I2C_FUNC_*).
static inline int fieldproof_i2c_funcs(int fd, unsigned long *funcs) {
    return ioctl(fd, I2C_FUNCS, funcs);
}

/// Runs combined transfers (repeated start between messages).
static inline int fieldproof_i2c_rdwr(int fd, struct i2c_msg *msgs, unsigned int count) {
    struct i2c_rdwr_ioctl_data data;
    data.msgs = msgs;
    data.nmsgs = count;
    return ioctl(fd, I2C_RDWR, &data);
}

#endif
