// What the interop check scripts share: a check runner that prints `PASS name: detail` /
// `FAIL name: reason` per check (a check that cannot run is a FAIL with the reason, never
// skipped), an assertion and the text of a tool result.

/** A runner whose checks time out after `timeoutS` seconds each; `results` lists them. */
export function checker(timeoutS) {
  const results = [];
  function record(name, ok, detail) {
    results.push({ name, ok });
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
    return ok;
  }
  async function check(name, fn) {
    let timer;
    try {
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutS} s`)), timeoutS * 1000);
      });
      return record(name, true, await Promise.race([fn(), timeout]));
    } catch (e) {
      return record(name, false, e && e.message ? `${e.name || 'Error'}: ${e.message}` : String(e));
    } finally {
      clearTimeout(timer);
    }
  }
  return { results, record, check };
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export const textOf = (r) => (r.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
