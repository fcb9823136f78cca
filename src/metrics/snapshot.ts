// One reading of a service's stats per scrape: render() runs every collect
// callback synchronously, so a value read once and dropped at the next
// microtask is shared by all the metrics of that scrape (one native stats()
// call instead of one per metric, and metrics that agree with each other).
export function perScrape<T>(read: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (!cached) {
      cached = { value: read() };
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}
