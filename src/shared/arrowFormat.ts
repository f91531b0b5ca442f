/** Enumerations of Arrow's Message.fbs and Schema.fbs that result pages use (writer and reader). */
export const METADATA_V5 = 4
export const HEADER_SCHEMA = 1
export const HEADER_RECORD_BATCH = 3
export const TYPE_INT = 2
export const TYPE_FLOAT = 3
export const TYPE_UTF8 = 5
export const TYPE_BOOL = 6
export const TYPE_DATE = 8
export const TYPE_TIMESTAMP = 10
/** FloatingPoint.precision */
export const PRECISION = { half: 0, single: 1, double: 2 } as const
/** DateUnit (MILLISECOND is the default when absent) */
export const DATE_DAY = 0
export const DATE_MILLISECOND = 1
/** TimeUnit (SECOND is the default when absent) */
export const TIME_SECOND = 0
export const TIME_MICROSECOND = 2
