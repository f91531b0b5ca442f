/** DuckDB words that the generic SQL grammar does not highlight. */
export const DUCKDB_KEYWORDS = [
  'ANTI', 'ASOF', 'ATTACH', 'DETACH', 'COLUMNS', 'DESCRIBE', 'EXCLUDE', 'EXPORT', 'IMPORT', 'ILIKE', 'INSTALL',
  'LOAD', 'MACRO', 'PIVOT', 'UNPIVOT', 'POSITIONAL', 'PRAGMA', 'QUALIFY', 'REPLACE', 'SAMPLE', 'SEMI', 'SUMMARIZE',
  'USING', 'TABLESAMPLE', 'RETURNING', 'LAMBDA', 'STRUCT', 'MAP', 'LIST', 'UNION', 'ENUM', 'HUGEINT', 'UHUGEINT',
  'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT', 'TIMESTAMPTZ', 'BLOB', 'JSON', 'UUID', 'INTERVAL', 'SECRET',
  'PERSISTENT', 'TEMPORARY', 'CHECKPOINT', 'COPY', 'FORMAT', 'PARQUET', 'CSV', 'GLOB', 'SIMILAR', 'GROUPING',
  'ROLLUP', 'CUBE', 'WINDOW', 'FILTER', 'RECURSIVE', 'MATERIALIZED', 'VIEW', 'SEQUENCE', 'SHOW', 'TABLES',
  'DATABASES', 'SET', 'RESET', 'VACUUM', 'ANALYZE', 'EXPLAIN', 'BY', 'ALL', 'NAME', 'NULLS', 'FIRST', 'LAST'
]

export const DUCKDB_FUNCTIONS = [
  'read_parquet', 'read_csv', 'read_csv_auto', 'read_json', 'read_json_auto', 'parquet_scan', 'parquet_metadata',
  'parquet_schema', 'delta_scan', 'iceberg_scan', 'sqlite_scan', 'glob', 'range', 'generate_series', 'unnest',
  'list_value', 'list_agg', 'array_agg', 'string_agg', 'struct_pack', 'struct_extract', 'map_from_entries',
  'approx_count_distinct', 'approx_quantile', 'quantile_cont', 'quantile_disc', 'median', 'mode', 'arg_max',
  'arg_min', 'max_by', 'min_by', 'histogram', 'regexp_matches', 'regexp_replace', 'regexp_extract', 'strftime',
  'strptime', 'date_trunc', 'date_part', 'date_diff', 'epoch_ms', 'to_timestamp', 'make_date', 'make_timestamp',
  'time_bucket', 'list_filter', 'list_transform', 'list_reduce', 'list_sort', 'len', 'string_split', 'concat_ws',
  'hash', 'md5', 'sha256', 'uuid', 'gen_random_uuid', 'try_cast', 'typeof', 'current_setting', 'duckdb_tables',
  'duckdb_columns', 'duckdb_extensions', 'duckdb_settings', 'first', 'last', 'any_value', 'bool_and', 'bool_or',
  'count_if', 'fsum', 'entropy', 'kurtosis', 'skewness', 'corr', 'covar_pop', 'regr_slope', 'columns'
]
