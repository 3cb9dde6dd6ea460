'use strict';
/**
 * An open-loop load at a fixed rate, for the latency scenario. autocannon's own rate limit
 * (`overallRate`) gives each connection a budget per second that it spends at once, so the
 * whole second's requests arrive in one burst and queue; latency measured that way is the
 * burst's queue. Here requests are issued evenly (a 1 ms timer sends whatever is due), over a
 * keep-alive agent of `connections` sockets, and each one's time runs from when it was issued:
 * a slow server makes later requests wait in the agent, and that wait is counted.
 */
const http = require('node:http');
const { latencyPercentiles } = require('./report');

function pacedLoad({ port, requests, duration, rate, connections }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const intervalMs = 1000 / rate;
  const latencies = [];
  let sent = 0;
  let inFlight = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let stopped = false;
  const start = performance.now();
  const end = start + duration * 1000;

  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      const seconds = (performance.now() - start) / 1000;
      resolve({ rps: ok / seconds, ...latencyPercentiles(latencies), answered: ok + non2xx, non2xx, errors, timeouts: 0, duration: seconds });
    };
    const settle = () => {
      inFlight--;
      if (stopped && inFlight === 0) finish();
    };
    const fire = (i) => {
      const r = requests[i % requests.length];
      const headers = r.body ? { ...r.headers, 'content-length': Buffer.byteLength(r.body) } : r.headers;
      const issued = performance.now();
      inFlight++;
      const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode >= 200 && res.statusCode < 300) {
            ok++;
            latencies.push(performance.now() - issued);
          } else {
            non2xx++;
          }
          settle();
        });
      });
      req.on('error', () => {
        errors++;
        settle();
      });
      req.end(r.body);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(timer);
        stopped = true;
        if (inFlight === 0) finish();
        return;
      }
      const due = Math.floor((now - start) / intervalMs);
      while (sent < due) fire(sent++);
    }, 1);
  });
}

module.exports = { pacedLoad };
