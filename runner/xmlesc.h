/* xmlesc.h: text made safe for XML 1.0 (the JUnit report). */
#ifndef CRUN_XMLESC_H
#define CRUN_XMLESC_H

#include "cmek/buf.h"
#include "cmek/error.h"

/* Appends text as XML character data or attribute text: & < > " ' and tab, newline,
 * carriage return as references; what XML 1.0 cannot hold (other control characters,
 * invalid UTF-8, U+FFFE/U+FFFF) as U+FFFD. */
CMEK_WUR int crun_xml_escape(struct cmek_buf *out, const char *text);

#endif
