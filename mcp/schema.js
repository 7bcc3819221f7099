'use strict'
// The tools' input schemas are JSON Schema (what MCP clients read from tools/list); this checks
// arguments against the subset they use, so bad input is a clear tool error naming the
// argument, never a Rally request.

class InputError extends Error {
  constructor(argument, message) {
    super(`Invalid ${argument}: ${message}`)
    this.code = 'RALLY_INVALID_INPUT'
    this.argument = argument
  }
}

function typeOf(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number' && Number.isInteger(v)) return 'integer'
  return typeof v
}

function describe(v) {
  const t = typeOf(v)
  if (t === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
  if (t === 'integer' || t === 'number' || t === 'boolean') return `${t === 'integer' ? 'the number' : 'the ' + t} ${v}`
  return t === 'object' ? 'an object' : t === 'array' ? 'an array' : t
}

/** Checks `value` against `schema` (type, enum, bounds, required, additionalProperties, items). */
function check(schema, value, path) {
  const want = schema.type
  const got = typeOf(value)
  const fits = want === undefined || want === got || (want === 'number' && got === 'integer')
  if (!fits) throw new InputError(path, `must be ${want === 'integer' ? 'a whole number' : `a${/^[aeio]/.test(want) ? 'n' : ''} ${want}`}, got ${describe(value)}`)
  if (schema.enum && !schema.enum.includes(value)) {
    throw new InputError(path, `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(value)}`)
  }
  if (got === 'string') {
    if (schema.minLength !== undefined && value.trim().length < schema.minLength) throw new InputError(path, 'must not be empty')
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      throw new InputError(path, `must be at most ${schema.maxLength} characters, got ${value.length}`)
    }
  }
  if (got === 'integer' || got === 'number') {
    if (!Number.isFinite(value)) throw new InputError(path, `must be a finite number, got ${value}`)
    if (schema.minimum !== undefined && value < schema.minimum) throw new InputError(path, `must be at least ${schema.minimum}, got ${value}`)
    if (schema.maximum !== undefined && value > schema.maximum) throw new InputError(path, `must be at most ${schema.maximum}, got ${value}`)
  }
  if (got === 'array') {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) throw new InputError(path, `must have at most ${schema.maxItems} items`)
    value.forEach((item, i) => schema.items && check(schema.items, item, `${path}[${i}]`))
  }
  if (got === 'object' && schema.properties) {
    for (const key of schema.required ?? []) {
      if (value[key] === undefined) throw new InputError(path ? `${path}.${key}` : key, 'is required')
    }
    for (const [key, v] of Object.entries(value)) {
      const name = path ? `${path}.${key}` : key
      const sub = schema.properties[key]
      if (!sub) {
        if (schema.additionalProperties === false) {
          const valid = Object.keys(schema.properties).join(', ')
          throw new InputError(name, `unknown argument; valid arguments are ${valid}`)
        }
        continue
      }
      if (v !== undefined) check(sub, v, name)
    }
    if (schema.minProperties !== undefined && Object.keys(value).filter((k) => value[k] !== undefined).length < schema.minProperties) {
      throw new InputError(path || 'arguments', `needs at least ${schema.minProperties} of ${Object.keys(schema.properties).join(', ')}`)
    }
  }
}

/** The tool's arguments, checked; a missing arguments object is an empty one. */
function validate(schema, args) {
  const value = args ?? {}
  check(schema, value, '')
  return value
}

module.exports = { InputError, validate }
