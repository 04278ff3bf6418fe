// The page: reads the files the user chose, calls the verifier (glassbox.js) and shows the
// verdict. Plain DOM, no framework; every string from a proof or a file is set as text, never
// as HTML.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("form");
  const filesInput = $("files");
  const inputsInput = $("inputs");
  const drop = $("drop");
  const result = $("result");
  const status = $("status");
  let chosen = []; // [{name, bytes}]
  let reading = Promise.resolve(); // the last read of chosen files, awaited before a check

  // What the tests read: the last result object and how long the last check took.
  window.glassboxPage = { last: null, busy: false };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c == null) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  async function readFiles(list) {
    chosen = await Promise.all(
      Array.from(list).map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })),
    );
    $("chosen").textContent = chosen.length
      ? "Chosen: " + chosen.map((f) => `${f.name} (${(f.bytes.length / 1024).toFixed(1)} KB)`).join(", ")
      : "No file chosen.";
  }

  filesInput.addEventListener("change", () => {
    reading = readFiles(filesInput.files);
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) {
      reading = readFiles(e.dataTransfer.files);
      await run();
    }
  });
  // a file dropped anywhere else must not make the browser navigate away to it
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  const text = (bytes) => new TextDecoder().decode(bytes);
  const isManifest = (f) => /\.json$/i.test(f.name);

  async function run() {
    window.glassboxPage.busy = true;
    try {
      const r = await check();
      show(r);
      window.glassboxPage.last = r;
    } catch (e) {
      // an unexpected failure of the page itself: still never shown as valid
      const r = { valid: false, kind: "error", error: "the page failed: " + (e && e.message ? e.message : e) };
      show(r);
      window.glassboxPage.last = r;
    } finally {
      window.glassboxPage.busy = false;
    }
  }

  async function check() {
    await reading;
    const minBits = Number($("minbits").value);
    let digest = $("digest").value.trim();
    const inputsFile = inputsInput.files && inputsInput.files[0];
    const inputsJson = inputsFile ? await inputsFile.text() : undefined;
    if (!chosen.length) return { valid: false, kind: "error", error: "choose a proof file first" };
    const manifests = chosen.filter(isManifest);
    if (manifests.length > 1) {
      return { valid: false, kind: "error", error: "choose one bundle manifest at a time" };
    }
    if (manifests.length === 1) {
      const manifest = text(manifests[0].bytes);
      let fromManifest = false;
      if (!digest) {
        const d = await Glassbox.manifestDigest(manifest);
        if (d.error) return { valid: false, kind: "error", error: d.error };
        digest = d.digest;
        fromManifest = true;
      }
      const proofs = chosen.filter((f) => !isManifest(f));
      const r = await Glassbox.verifyBundle(manifest, proofs, digest, minBits, inputsJson);
      r.mode = "bundle";
      r.file = manifests[0].name;
      r.digestFromManifest = fromManifest;
      return r;
    }
    if (chosen.length > 1) {
      return {
        valid: false,
        kind: "error",
        error: "several proof files but no manifest: choose one .gbp, or a .bundle.json with its files",
      };
    }
    if (!digest) return { valid: false, kind: "error", error: "paste the model digest the provider published" };
    const r = await Glassbox.verify(chosen[0].bytes, digest, minBits, inputsJson);
    r.mode = "proof";
    r.file = chosen[0].name;
    return r;
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });

  function verdictBox(r) {
    const kind = r.valid ? "valid" : r.kind === "error" ? "error" : "invalid";
    const word = r.valid ? "VALID" : kind === "error" ? "NOT VERIFIED" : "INVALID";
    const what = r.valid
      ? r.mode === "bundle"
        ? "The committed model computed these outputs, for the whole bundle."
        : r.whole_bundle
          ? "The committed model computed these outputs."
          : "The committed model computed the outputs of this chunk only."
      : kind === "error"
        ? "Nothing was checked. Do not rely on these outputs."
        : "This proof does not hold. Do not rely on these outputs.";
    return el(
      "div",
      { class: "verdict " + kind, role: "status" },
      el("span", { class: "mark", "aria-hidden": "true" }, r.valid ? "\u2713" : "\u2717"),
      el(
        "div",
        {},
        el("span", { class: "word" }, word),
        el("span", { class: "what" }, what),
        r.valid ? null : el("p", { class: "reason" }, "Reason: " + r.error),
      ),
    );
  }

  const fmtOut = (ys) => "[" + ys.map((v) => v.toFixed(3)).join(", ") + "]";
  const ms = (v) => (v < 10 ? v.toFixed(2) : v.toFixed(1)) + " ms";

  function sampleTable(claims) {
    const body = el("tbody");
    for (const c of claims) {
      c.labels.forEach((label, i) => {
        body.append(
          el(
            "tr",
            {},
            el("td", { class: "num" }, c.first_sample + i),
            el("td", { class: "num label" }, label),
            el("td", { class: "mono" }, c.inputs_hashes[i]),
            el("td", { class: "outs" }, fmtOut(c.outputs[i])),
          ),
        );
      });
    }
    return el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { id: "samples" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { class: "num", scope: "col" }, "sample"),
            el("th", { class: "num", scope: "col" }, "label"),
            el("th", { scope: "col" }, "inputs (blake3)"),
            el("th", { scope: "col" }, "outputs"),
          ),
        ),
        body,
      ),
    );
  }

  function facts(pairs) {
    const dl = el("dl", { class: "facts" });
    for (const [k, v] of pairs) if (v != null) dl.append(el("dt", {}, k), el("dd", {}, v));
    return dl;
  }

  function show(r) {
    result.replaceChildren();
    result.dataset.verdict = r.valid ? "valid" : r.kind === "error" ? "error" : "invalid";
    result.dataset.ms = r.verify_ms != null ? String(r.verify_ms) : "";
    result.append(verdictBox(r));
    if (r.mode === "bundle" && r.digestFromManifest) {
      result.append(
        el(
          "p",
          { class: "note" },
          "The digest was taken from the manifest: the proofs are of the model " +
            r.digest +
            ". Compare it with the digest the provider published.",
        ),
      );
    }
    if (r.valid && r.mode === "proof") {
      const b = r.bundle;
      if (!r.whole_bundle) {
        result.append(
          el(
            "p",
            { class: "note" },
            `This file is chunk ${b.chunk} of ${b.chunks} (counting from 0) of a bundle (samples ${b.first_sample}..${
              b.first_sample + r.samples
            } of ${b.samples}). It proves only its own samples: verify the bundle manifest with all its files for the whole batch.`,
          ),
        );
      }
      result.append(
        facts([
          ["file", r.file],
          ["model digest", r.digest],
          ["samples", `${r.samples} (inputs blake3 ${r.inputs_hash}, input encoding ${r.input_encoding})`],
          ["bundle", `chunk ${b.chunk} of ${b.chunks}, bundle ${b.id.slice(0, 16)}, samples ${b.first_sample}..${b.first_sample + r.samples} of ${b.samples}`],
          ["security", `${r.security_bits} bits (conjectured)`],
          ["your inputs", r.inputs_checked ? "match: " + r.inputs_checked : null],
          ["verified in", ms(r.verify_ms)],
        ]),
        sampleTable([r]),
      );
    } else if (r.mode === "bundle" && r.proofs) {
      if (r.valid) {
        result.append(
          facts([
            ["manifest", r.file],
            ["model digest", r.digest],
            ["samples", `${r.samples} in ${r.proofs.length} proofs, bundle ${r.bundle_id.slice(0, 16)}`],
            ["security", `${r.security_bits} bits (conjectured)`],
            ["your inputs", r.inputs_match ? `match: all ${r.samples} samples, in order` : null],
            ["verified in", ms(r.verify_ms)],
          ]),
          sampleTable(r.proofs),
        );
      } else {
        const list = el("ul", { class: "files" });
        for (const p of r.proofs) {
          list.append(el("li", {}, `${p.file}: ${p.valid ? "valid on its own" : "INVALID: " + p.error}`));
        }
        result.append(list);
      }
    }
    result.focus();
  }

  status.textContent = "Loading the verifier…";
  const t0 = performance.now();
  Glassbox.ready().then(
    () => {
      status.textContent = `Verifier ready (${ms(performance.now() - t0)}).`;
      document.body.dataset.ready = "true";
    },
    (e) => {
      status.textContent = "The verifier failed to load: " + e.message;
      document.body.dataset.ready = "failed";
    },
  );
})();
