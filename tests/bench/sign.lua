-- wrk script for tests/bench/signer.mjs: every request is the widget's sign request for one file,
-- and the summary goes to stdout as one JSON line (latencies in microseconds) for the script
-- to read.
wrk.method = "POST"
wrk.path = "/s3file/sign"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.body = '{"field":"file","files":[{"name":"holiday.jpg","size":1048576,"type":"image/jpeg"}]}'

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
