/** jest setupFiles: every fast-check property in the test file draws from `seed` (see fast-check.ts). */
import fc from 'fast-check';
import { seed } from './fast-check';

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
