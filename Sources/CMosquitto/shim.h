#ifndef FIELDPROOF_CMOSQUITTO_SHIM_H
#define FIELDPROOF_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
