/**
 * deadbolt/audit: a static lock audit for TypeScript and JavaScript sources (scanner, rules,
 * reporters). It reads source code and never runs it.
 */
export * from './types.js';
export { analyzeSources, runAudit } from './run.js';
