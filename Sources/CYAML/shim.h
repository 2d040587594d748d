#ifndef FIELDPROOF_CYAML_SHIM_H
#define FIELDPROOF_CYAML_SHIM_H
#include <yaml.h>
#endif
