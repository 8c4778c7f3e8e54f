/* core/api.c: the one table of host functions that modules call through. */
#include "api_impl.h"

#include "version.h"

const gr_host_api_t gr__host_api = {
    .size = sizeof(gr_host_api_t),
    .abi_version = GR_ABI_VERSION,
    .host_version = GR_HOST_VERSION,

    .log_enabled = gr__log_enabled,
    .log_write = gr__log_write,

    .config_get = gr__config_get,
    .config_kind = gr__config_kind,
    .config_scalar = gr__config_scalar,
    .config_size = gr__config_size,
    .config_at = gr__config_at,
    .config_key_at = gr__config_key_at,
    .config_where = gr__config_where,
    .config_to_int = gr__config_to_int,
    .config_to_number = gr__config_to_number,
    .config_to_bool = gr__config_to_bool,
    .config_to_duration_ms = gr__config_to_duration_ms,
    .config_to_schedule = gr__config_to_schedule,

    .router_add = gr__router_add,
    .http_method = gr__http_method,
    .http_path = gr__http_path,
    .http_param = gr__http_param,
    .http_query = gr__http_query,
    .http_header = gr__http_header,
    .http_body = gr__http_body,
    .http_body_json = gr__http_body_json,
    .http_aborted = gr__http_aborted,
    .http_set_header = gr__http_set_header,
    .http_respond = gr__http_respond,
    .http_respond_json = gr__http_respond_json,
    .http_respond_error = gr__http_respond_error,

    .scheduler_add = gr__scheduler_add,
    .scheduler_trigger = gr__scheduler_trigger,
    .task_id = gr__task_id,
    .task_cancelled = gr__task_cancelled,
    .task_done = gr__task_done,

    .metrics_counter = gr__metrics_counter,
    .metrics_gauge = gr__metrics_gauge,
    .metrics_histogram = gr__metrics_histogram,
    .metric_labels = gr__metric_labels,
    .metric_add = gr__metric_add,
    .metric_set = gr__metric_set,
    .metric_observe = gr__metric_observe,

    .work_submit = gr__work_submit,
    .lifecycle_on_started = gr__lifecycle_on_started,
    .lifecycle_on_shutdown = gr__lifecycle_on_shutdown,
    .extension_point_provide = gr__extension_point_provide,
    .extension_point_get = gr__extension_point_get,
    .health_report = gr__health_report,

    .db_query = gr__db_query,
    .db_prepare = gr__db_prepare,
    .db_copy = gr__db_copy,
    .db_begin = gr__db_begin,
    .db_tx_end = gr__db_tx_end,
    .db_result_rows = gr__db_result_rows,
    .db_result_columns = gr__db_result_columns,
    .db_result_column_name = gr__db_result_column_name,
    .db_result_column = gr__db_result_column,
    .db_result_value = gr__db_result_value,
    .db_result_affected = gr__db_result_affected,

    .router_mount = gr__router_mount,
};
