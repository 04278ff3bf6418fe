// glassbox's verifier in the browser: loads the WebAssembly built by `make wasm` (web/pkg/) and
// calls it. A classic script (no ES modules, no fetch), so the page works from file:// as well as
// from any static host. Needs pkg/glassbox_wasm.js and pkg/glassbox_wasm_bg.js loaded first, and
// optionally warmup.js.
//
// Panics: on wasm a panic cannot unwind into a rejection (the native verifier's catch_unwind); it
// aborts, and JavaScript sees a WebAssembly.RuntimeError. An instance that trapped may hold
// broken state (its allocator, its stack pointer), so it is dropped: the call is reported as a
// rejection and the next call runs in a fresh instance of the same compiled module.
"use strict";
(function (global) {
  let compiled = null; // Promise<WebAssembly.Module>
  let current = null; // Promise<glue> of the live instance
  let restarts = 0;
  let warmup = null; // the warm-up check's result, {valid, verify_ms, ...}

  function decodeBase64(text) {
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  function instance() {
    if (!compiled) {
      compiled = WebAssembly.compile(decodeBase64(global.GLASSBOX_WASM_BASE64));
    }
    if (!current) {
      current = compiled.then(async (module) => {
        const glue = global.glassboxWasmFactory();
        await glue({ module_or_path: module });
        // A fresh instance's first call pays for compiling the verifier's code (the browser
        // compiles wasm functions lazily): verify the small proof of warmup.js once, here.
        const w = global.GLASSBOX_WARMUP;
        if (w && !warmup) warmup = glue.verify(decodeBase64(w.proof), w.digest, 100, undefined);
        return glue;
      });
    }
    return current;
  }

  // Runs `f(glue)`; a trap becomes a rejection and retires the instance.
  async function call(f) {
    const glue = await instance();
    try {
      return f(glue);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        current = null;
        restarts += 1;
        return {
          valid: false,
          kind: "invalid",
          trapped: true,
          error:
            "the verifier stopped on this input (WebAssembly trap: " +
            e.message +
            "); it is rejected, and the next check runs in a fresh verifier",
        };
      }
      throw e;
    }
  }

  const optional = (s) => (s == null || s === "" ? undefined : String(s));
  // A file over the verifier's limit is refused before it is copied into the instance's memory,
  // with the verifier's own words (the limit is checked first there too).
  const tooLarge = (g, bytes) =>
    bytes.length > g.max_proof_bytes()
      ? `proof file is ${bytes.length} bytes; the limit is ${g.max_proof_bytes()}`
      : null;
  const rejected = (error) => ({ valid: false, kind: "invalid", error });

  global.Glassbox = {
    /** Resolves once the module is compiled and an instance is ready. */
    ready: () => instance().then(() => undefined),
    /** Verifies one proof: bytes (Uint8Array), digest (hex), min bits, optional inputs JSON. */
    verify: (bytes, digestHex, minBits, inputsJson) =>
      call((g) => {
        const big = tooLarge(g, bytes);
        // a malformed digest, level or inputs file is reported first, as the CLI does
        const r = g.verify(big ? new Uint8Array(0) : bytes, String(digestHex), minBits >>> 0, optional(inputsJson));
        return big && r.kind !== "error" ? rejected(big) : r;
      }),
    /** Verifies a bundle: manifest JSON, files as [{name, bytes}], digest, min bits, inputs. */
    verifyBundle: (manifestJson, files, digestHex, minBits, inputsJson) =>
      call((g) => {
        const big = files.map((f) => [f.name, tooLarge(g, f.bytes)]).find(([, why]) => why);
        if (big) return rejected(`${big[0]}: ${big[1]}`);
        return g.verify_bundle(
          String(manifestJson),
          files.map((f) => f.name),
          files.map((f) => f.bytes),
          String(digestHex),
          minBits >>> 0,
          optional(inputsJson),
        );
      }),
    /** The digest a manifest names, or {error}. */
    manifestDigest: (manifestJson) =>
      call((g) => {
        const d = g.manifest_digest(String(manifestJson));
        return d.startsWith("error: ") ? { error: d.slice(7) } : { digest: d };
      }),
    /** Makes the current instance trap (tests of the recovery path). */
    trapForTests: () => call((g) => g.trap_for_tests()),
    /** The result of verifying warmup.js's proof while loading (null if there is none). */
    warmup: () => warmup,
    /** How many instances were replaced after a trap. */
    restarts: () => restarts,
  };
})(typeof window !== "undefined" ? window : self);
