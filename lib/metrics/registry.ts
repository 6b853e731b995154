import { Registry } from 'prom-client';

/**
 * The one Prometheus registry the pack's metrics live in, served at
 * `/tectonic/metrics`: per-node counters and histograms at a site, per-site
 * health at the centre, the embedded broker's figures. Names start with
 * `tectonic_`, are in base units (seconds, bytes) and have bounded label sets.
 */
export const metricsRegistry = new Registry();
