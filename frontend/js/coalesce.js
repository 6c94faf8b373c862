// @ts-check
/** Coalesced reloads: many callers, one fetch at a time, and nobody gets data older than their call. */

/**
 * Wrap an async `load` so that calls never overlap and each call resolves only
 * after a `load` that *started after* it has finished. Calls made while a load
 * runs share the single next load (so a burst of events costs two fetches, not
 * one per event). A caller that has just changed something on the server can
 * therefore trust what it gets; a reply fetched before its change never wins.
 * @param {() => Promise<void>} load
 * @returns {() => Promise<void>}
 */
export function coalesced(load) {
  /** @type {Promise<void>|null} */ let running = null;
  /** @type {Promise<void>|null} */ let next = null;

  function call() {
    if (!running) {
      running = load().finally(() => { running = null; });
      return running;
    }
    if (!next) {
      next = running.catch(() => {}).then(() => { next = null; return call(); });
    }
    return next;
  }
  return call;
}
