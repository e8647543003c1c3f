// Cross-check and benchmark helper for the Python GPP codec (src/privacyops/consent/gpp).
//
// Reads JSON lines on stdin and writes one JSON line per request on stdout, using IAB's own
// @iabgpp/cmpapi (GppModel):
//   {"op":"decode","gpp":"DBABLA~..."}       -> {"ok":true,"sectionIds":[7],"sections":{"usnat":{...}}}
//   {"op":"encode","sections":{"usnat":{}}}  -> {"ok":true,"gpp":"DBABLA~..."}
//   {"op":"layout","prefixes":["usnat",...]} -> the fields of each section (name, type, size, default)
//   {"op":"time","decode":[...],"encode":[...],"rounds":N}
//                                            -> {"ok":true,"decodeSeconds":s,"encodeSeconds":s}
//                                               (median seconds per string, measured in node)
// A request that fails answers {"ok":false,"error":"..."}; the process goes on.
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import * as cmpapi from "@iabgpp/cmpapi";

const { GppModel } = cmpapi;

// Fields the library does not write but uses to say whether an optional segment is there.
const INCLUDED_FIELDS = ["GpcSegmentIncluded", "SensitiveDataConsentSegmentIncluded"];

function decodeFields(model, prefix) {
  const fields = model.getSection(prefix);
  for (const name of INCLUDED_FIELDS) {
    try {
      fields[name] = model.getFieldValue(prefix, name);
    } catch {
      // not a field of this section
    }
  }
  return fields;
}

function decode(gpp) {
  const model = new GppModel(gpp);
  const sectionIds = model.getSectionIds();
  const sections = {};
  for (const prefix of Object.keys(model.toObject())) {
    sections[prefix] = decodeFields(model, prefix);
  }
  return { sectionIds, sections };
}

function encode(sections) {
  const model = new GppModel();
  for (const [prefix, fields] of Object.entries(sections)) {
    for (const [name, value] of Object.entries(fields)) {
      model.setFieldValue(prefix, name, value);
    }
  }
  return model.encode();
}

// Section classes by prefix, from the package's exports (UsNat, UsCa, ...).
const SECTION_CLASSES = new Map(
  Object.values(cmpapi)
    .filter((value) => typeof value === "function" && value.NAME && value.ID)
    .map((cls) => [cls.NAME, cls]),
);

const TYPES = {
  EncodableFixedInteger: "int",
  EncodableFixedIntegerList: "list",
  EncodableBoolean: "bool",
};

function describeField(segment, name, field) {
  const type = TYPES[field.constructor.name] ?? field.constructor.name;
  const allowed = [];
  if (type !== "bool") {
    for (let n = 0; n < 64; n++) {
      if (!field.validator || field.validator.test(type === "list" ? [n] : n)) allowed.push(n);
    }
  }
  return {
    name,
    type,
    width: type === "bool" ? 1 : (field.bitStringLength ?? field.elementBitStringLength),
    count: field.numElements ?? null,
    allowed: field.validator ? allowed : null,
    default: field.getValue(),
    written: segment.getFieldNames().includes(name),
  };
}

// The fields of each section as the library defines them (its current version), so that the
// Python registry can be checked against them field by field.
function layout(prefixes) {
  const result = {};
  for (const prefix of prefixes) {
    const cls = SECTION_CLASSES.get(prefix);
    const section = new cls();
    result[prefix] = {
      id: cls.ID,
      version: cls.VERSION,
      segments: section.segments.map((segment) =>
        [...segment.fields.getAll()].map(([name, field]) => describeField(segment, name, field)),
      ),
    };
  }
  return result;
}

// Median seconds per string over `rounds` rounds, each round handling every input once; one
// warm-up round first so that the JIT has compiled the code paths (the Python side warms up too).
function perString(work, inputs, rounds) {
  for (const input of inputs) work(input);
  const times = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (const input of inputs) work(input);
    times.push((performance.now() - start) / 1000 / inputs.length);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

// What the Python side's decode() does: read the header and every field of every section.
function decodeAll(gpp) {
  return new GppModel(gpp).toObject();
}

function time(decodeStrings, encodeSections, rounds) {
  return {
    decodeSeconds: perString(decodeAll, decodeStrings, rounds),
    encodeSeconds: perString(encode, encodeSections, rounds),
  };
}

function answer(request) {
  switch (request.op) {
    case "decode":
      return { ok: true, ...decode(request.gpp) };
    case "encode":
      return { ok: true, gpp: encode(request.sections) };
    case "layout":
      return { ok: true, sections: layout(request.prefixes) };
    case "time":
      return { ok: true, ...time(request.decode, request.encode, request.rounds) };
    default:
      return { ok: false, error: `unknown op ${JSON.stringify(request.op)}` };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let response;
  try {
    response = answer(JSON.parse(line));
  } catch (error) {
    response = { ok: false, error: String(error && error.message ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(response) + "\n");
}
