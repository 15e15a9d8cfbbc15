/**
 * Walking untrusted JSON: a checker that collects every problem with its JSON path, and the
 * unknown keys as warnings, instead of stopping at the first.
 * @module
 */
import { isAbsolute, resolve } from "node:path";

/** Any JSON value. */
export type Json = unknown;

/** Collects problems and warnings while walking the JSON. */
export class Checker {
  problems: string[] = [];
  warnings: string[] = [];
  constructor(readonly baseDir: string) {}

  problem(path: string, msg: string): undefined {
    this.problems.push(`${path || "(top level)"}: ${msg}`);
    return undefined;
  }

  object(v: Json, path: string, known: readonly string[]): Record<string, Json> | undefined {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return this.problem(path, `expected an object, got ${kind(v)}`);
    }
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) {
        this.warnings.push(`${join(path, k)}: unknown key (ignored)`);
      }
    }
    return v as Record<string, Json>;
  }

  string(v: Json, path: string, required: boolean): string | undefined {
    if (v === undefined || v === null) {
      return required ? this.problem(path, "required, missing") : undefined;
    }
    if (typeof v !== "string") return this.problem(path, `expected a string, got ${kind(v)}`);
    if (required && v === "") return this.problem(path, "must not be empty");
    return v;
  }

  path(v: Json, path: string, required: boolean): string | undefined {
    const s = this.string(v, path, required);
    if (s === undefined || s === "") return undefined;
    return isAbsolute(s) ? s : resolve(this.baseDir, s);
  }

  bool(v: Json, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.problem(path, `expected true or false, got ${kind(v)}`);
    return v;
  }

  int(v: Json, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      return this.problem(path, `expected an integer ${min}..${max}, got ${show(v)}`);
    }
    return v;
  }

  array(v: Json, path: string): Json[] | undefined {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.problem(path, `expected an array, got ${kind(v)}`);
    return v;
  }
}

/** "an object", "number 5", … for messages. */
export function kind(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${show(v)}`;
}

/** A value for messages, shortened. */
export function show(v: Json): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The JSON path of `key` under `path` ("peers[1].addr"). */
export function join(path: string, key: string): string {
  const k = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
  if (path === "") return k;
  return /^[A-Za-z_]/.test(k) ? `${path}.${k}` : `${path}[${k}]`;
}
