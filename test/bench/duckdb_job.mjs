// test/bench/duckdb_job.mjs: the bench job of engine_spines.sh in DuckDB
// (npm @duckdb/node-api, installed by engine_spines.sh under
// test/bench/.duckdb at bench time, never committed).
//
// usage: node duckdb_job.mjs FLIGHTS.csv[.gz] THREADS [OUT.csv]
//
// The same features as the pg_asof job, with the same semantics (docs/
// point-in-time.md): for a spine row at t, k = the latest hourly tick with
// tick + 10 minutes <= t; a source row is visible when available time ta
// (landing, dep_time + (30 + distance / 8) minutes) < k and event time
// te (dep_time) < k; a window W holds visible rows with te >= k - W.
// Formulation (the best we could write for DuckDB): every source row
// enters all its windows at the first tick after max(te, ta) and leaves
// window W at the first tick after te + W; per (entity, tick) the
// entering and leaving counts, sums and sums of squares are summed, then
// accumulated per entity in tick order (window function), and every spine
// row takes the accumulated state at its k with an ASOF JOIN.  max(delay)
// over 1 day is not a cumulative quantity: each row is expanded to the
// ticks it is alive in that window (about 24) and grouped by (entity, tick).
// Prints the load time and the job time (the CREATE TABLE of the result)
// in seconds, and the result's row count.
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threads, out] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
const con = await db.connect();
const run = (sql) => con.run(sql);

let t0 = performance.now();
await run(`CREATE TABLE f AS SELECT * FROM read_csv('${file}', header = true,
  columns = {'dep_time': 'TIMESTAMP', 'origin': 'VARCHAR', 'destination': 'VARCHAR',
             'distance': 'INTEGER', 'delay': 'INTEGER'})`);
const load = (performance.now() - t0) / 1000;

// the per-view part: cumulative state per (entity, tick) and the 1-day max
function view(name, key) {
  const win = { '1h': '1 hour', '6h': '6 hours', '1d': '1 day', '7d': '7 days' };
  const exitCols = Object.entries(win).map(([w, iv]) =>
    `time_bucket(INTERVAL 1 hour, te + INTERVAL ${iv}) + INTERVAL 1 hour AS exit_${w}`).join(', ');
  // one event row per (row, enter) and per (row, window it leaves)
  const inW = (w) => `(exit_${w} > enter)`;
  const r = `${name}_r`;
  const enter = `SELECT e, enter AS tick,
      CASE WHEN ${inW('1d')} THEN 1 ELSE 0 END AS c1d,
      ${['1h', '6h', '1d', '7d'].map((w) =>
        `CASE WHEN ${inW(w)} AND x IS NOT NULL THEN 1 ELSE 0 END AS n${w},
         CASE WHEN ${inW(w)} THEN coalesce(x, 0) ELSE 0 END::BIGINT AS s${w}`).join(',\n')},
      CASE WHEN ${inW('7d')} THEN coalesce(x, 0)::BIGINT * coalesce(x, 0) ELSE 0 END AS ss7d
    FROM ${r}`;
  const leave = (w) => `SELECT e, exit_${w} AS tick,
      ${w === '1d' ? '-1' : '0'} AS c1d,
      ${['1h', '6h', '1d', '7d'].map((v) => v === w
        ? `-(x IS NOT NULL)::INT AS n${v}, -coalesce(x, 0)::BIGINT AS s${v}`
        : `0 AS n${v}, 0::BIGINT AS s${v}`).join(', ')},
      ${w === '7d' ? '-(coalesce(x, 0)::BIGINT * coalesce(x, 0))' : '0::BIGINT'} AS ss7d
    FROM ${r} WHERE ${inW(w)}`;
  const cols = ['c1d', 'n1h', 's1h', 'n6h', 's6h', 'n1d', 's1d', 'n7d', 's7d', 'ss7d'];
  return `
  ${name}_r AS (
    SELECT e, x, te, enter, ${exitCols}
      FROM (SELECT ${key} AS e, delay AS x, dep_time AS te,
                   time_bucket(INTERVAL 1 hour,
                     greatest(dep_time, dep_time + to_minutes(30 + distance // 8))) + INTERVAL 1 hour AS enter
              FROM f)),
  ${name}_cum AS (
    SELECT e, tick, ${cols.map((c) => `sum(${c}) OVER w AS ${c}`).join(', ')}
      FROM (SELECT e, tick, ${cols.map((c) => `sum(${c}) AS ${c}`).join(', ')}
              FROM (${enter}
                    ${['1h', '6h', '1d', '7d'].map((w) => `UNION ALL ${leave(w)}`).join('\n')})
             GROUP BY e, tick)
    WINDOW w AS (PARTITION BY e ORDER BY tick ROWS UNBOUNDED PRECEDING)),
  ${name}_max AS (
    SELECT e, tick, max(x) AS max1d
      FROM (SELECT e, x, unnest(range(enter, exit_1d, INTERVAL 1 hour)) AS tick
              FROM ${name}_r WHERE x IS NOT NULL AND exit_1d > enter)
     GROUP BY e, tick)`;
}

function features(name, alias) {
  const avg = (w) => `CASE WHEN ${alias}.n${w} > 0 THEN ${alias}.s${w} / ${alias}.n${w} END AS ${name}__avg_delay_${w}`;
  return [avg('1h'), avg('6h'), avg('1d'), avg('7d'),
    `coalesce(${alias}.c1d, 0) AS ${name}__count_1d`,
    `${alias}m.max1d AS ${name}__max_delay_1d`,
    `CASE WHEN ${alias}.n7d > 1 THEN sqrt(greatest(0, (${alias}.ss7d - ${alias}.s7d::DOUBLE * ${alias}.s7d / ${alias}.n7d) / (${alias}.n7d - 1))) END AS ${name}__stddev_delay_7d`,
  ].join(', ');
}

const job = `CREATE TABLE ts AS
WITH ${view('o', 'origin')}, ${view('d', 'destination')},
  spine AS (SELECT *, time_bucket(INTERVAL 1 hour, dep_time - INTERVAL 10 minutes) AS k FROM f)
SELECT spine.dep_time, spine.origin, spine.destination, spine.distance, spine.delay,
       ${features('o', 'oc')}, ${features('d', 'dc')}
  FROM spine
  ASOF LEFT JOIN o_cum oc ON oc.e = spine.origin AND spine.k >= oc.tick
  LEFT JOIN o_max ocm ON ocm.e = spine.origin AND ocm.tick = spine.k
  ASOF LEFT JOIN d_cum dc ON dc.e = spine.destination AND spine.k >= dc.tick
  LEFT JOIN d_max dcm ON dcm.e = spine.destination AND dcm.tick = spine.k`;

t0 = performance.now();
await run(job);
const jobTime = (performance.now() - t0) / 1000;
const n = (await (await con.runAndReadAll('SELECT count(*)::INTEGER FROM ts')).getRows())[0][0];
if (out)
  await run(`COPY (SELECT * FROM ts ORDER BY ALL) TO '${out}' (HEADER)`);
console.log(JSON.stringify({ load_s: load, job_s: jobTime, rows: n, threads: Number(threads || 2) }));
