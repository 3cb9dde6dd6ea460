/**
 * CI runs the suites again with EAL_EXPRESS=4 and EAL_MONGOOSE=8 (jest.config.js maps the
 * package names to the dev aliases). This proves the mapping took: without it those runs would
 * quietly test Express 5 and mongoose 9 twice.
 */
import express from 'express';
import mongoose from 'mongoose';

test('express is the major EAL_EXPRESS asks for (5 by default)', () => {
  // Express 4 still exports the query-string middleware; Express 5 removed it.
  const major = typeof (express as unknown as { query?: unknown }).query === 'function' ? '4' : '5';
  expect(major).toBe(process.env.EAL_EXPRESS || '5');
});

test('mongoose is the major EAL_MONGOOSE asks for (9 by default)', () => {
  expect(mongoose.version.split('.')[0]).toBe(process.env.EAL_MONGOOSE || '9');
});
