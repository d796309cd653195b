from tests.promql_names import exposable_names, metric_names


def test_metric_names_skip_functions_labels_groupings_ranges_and_numbers() -> None:
    expression = ('histogram_quantile(0.99, sum by (le, route) (rate(abis_x_bucket{route="/v1/a",'
                  'status=~"5.."}[5m]))) > 2 and on(instance) abis_y offset 5m unless abis_z > 1e3')
    assert metric_names(expression) == {"abis_x_bucket", "abis_y", "abis_z"}
    assert metric_names('up{job=~"abis.*"} == 0') == {"up"}
    assert metric_names("min by (partition) (abis_shard_replicas_available) < 1") == {
        "abis_shard_replicas_available"}


def test_exposable_names_follow_the_exposition_suffixes() -> None:
    assert exposable_names({"a": "counter", "b": "histogram", "c": "gauge"}) == {
        "a_total", "a_created", "b_bucket", "b_sum", "b_count", "b_created", "c"}
