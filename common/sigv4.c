#include "cmek/sigv4.h"
