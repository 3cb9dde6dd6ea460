'use strict';
/**
 * The benchmarked routes' answers, the same on every framework: stateless (nothing is kept), so
 * the only difference between variants is what is mounted in front of them.
 *   POST /items → 201 { _id, ...body }   PUT /items/:id → { _id, ...body }
 *   DELETE /items/:id → { _id, deleted }  GET /items/:id → a fixed item
 */
let seq = 0;
const pid = process.pid.toString(16).padStart(8, '0');
function newId() {
  seq++;
  return pid + seq.toString(16).padStart(16, '0');
}

const create = (body) => ({ _id: newId(), ...body });
const update = (id, body) => ({ _id: id, ...body });
const remove = (id) => ({ _id: id, deleted: true });
const read = (id) => ({ _id: id, name: 'item', qty: 1, tags: ['a', 'b'] });

/** Bodies up to 1 MB: the size scenario posts 100 KB. */
const BODY_LIMIT_BYTES = 1024 * 1024;

module.exports = { create, update, remove, read, BODY_LIMIT_BYTES };
