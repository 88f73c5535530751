/* test_common.h: what every Criterion suite here shares.
 *
 * Criterion 2.4.1 prints a leak found by LeakSanitizer inside a test worker but still
 * passes the run, so each suite's fini runs a recoverable leak check and aborts on a leak.
 * Criterion reports that as "crashed during its setup or teardown", a warning, and a
 * warning makes the runner exit 1 (checked by hand with a deliberately leaking test: an
 * assertion failing in fini, by contrast, is ignored). Use:
 * TestSuite(name, .fini = cmek_test_fini). */
#ifndef CMEK_TEST_COMMON_H
#define CMEK_TEST_COMMON_H

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

static inline void cmek_test_fini(void)
{
#if defined(__SANITIZE_ADDRESS__)
    if (__lsan_do_recoverable_leak_check() != 0) {
        abort();
    }
#endif
}

#endif
