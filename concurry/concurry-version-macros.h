/* concurry-version-macros.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (CONCURRY_INSIDE) && !defined (CONCURRY_COMPILATION)
# error "Only <concurry.h> can be included directly."
#endif

#include <glib.h>

#include "concurry-version.h"

#ifndef _CONCURRY_EXTERN
# define _CONCURRY_EXTERN extern
#endif

#define CONCURRY_VERSION_0_1 (CONCURRY_ENCODE_VERSION (0, 1, 0))

/**
 * CONCURRY_DEPRECATED_FOR:
 * @f: the name of the symbol to use instead
 *
 * Marks a declaration as deprecated in favour of @f.
 *
 * Since: 0.1
 */

/**
 * CONCURRY_UNAVAILABLE:
 * @maj: the major version that introduced the declaration
 * @min: the minor version that introduced the declaration
 *
 * Marks a declaration as unavailable before the given version.
 *
 * Since: 0.1
 */
#ifdef CONCURRY_DISABLE_DEPRECATION_WARNINGS
# define CONCURRY_DEPRECATED _CONCURRY_EXTERN
# define CONCURRY_DEPRECATED_FOR(f) _CONCURRY_EXTERN
# define CONCURRY_UNAVAILABLE(maj,min) _CONCURRY_EXTERN
#else
# define CONCURRY_DEPRECATED G_DEPRECATED _CONCURRY_EXTERN
# define CONCURRY_DEPRECATED_FOR(f) G_DEPRECATED_FOR (f) _CONCURRY_EXTERN
# define CONCURRY_UNAVAILABLE(maj,min) G_UNAVAILABLE (maj, min) _CONCURRY_EXTERN
#endif

#ifndef CONCURRY_VERSION_MAX_ALLOWED
# define CONCURRY_VERSION_MAX_ALLOWED (CONCURRY_VERSION)
#endif

/* Every symbol of the first API generation. */
#define CONCURRY_AVAILABLE_IN_ALL _CONCURRY_EXTERN

#if CONCURRY_VERSION_MAX_ALLOWED < CONCURRY_VERSION_0_1
# define CONCURRY_AVAILABLE_IN_0_1 CONCURRY_UNAVAILABLE (0, 1)
#else
# define CONCURRY_AVAILABLE_IN_0_1 _CONCURRY_EXTERN
#endif

#define CONCURRY_VERSION_0_2 (CONCURRY_ENCODE_VERSION (0, 2, 0))

#if CONCURRY_VERSION_MAX_ALLOWED < CONCURRY_VERSION_0_2
# define CONCURRY_AVAILABLE_IN_0_2 CONCURRY_UNAVAILABLE (0, 2)
#else
# define CONCURRY_AVAILABLE_IN_0_2 _CONCURRY_EXTERN
#endif
