/**
 * deadbolt/audit: a static lock audit for TypeScript and JavaScript sources (scanner, rules,
 * reporters). It reads source code and never runs it.
 */
export * from './types.js';
export { analyzeSources, runAudit } from './run.js';
export { formatResult, FORMATS, failsAt, FAIL_ON_VALUES, type FailOn, type Format, type FormatOptions } from './reporters/index.js';
export { AuditConfigError, CONFIG_FILES, findConfigFile, loadConfig, loadConfigSync, validateConfig, type LoadConfigOptions, type LoadedConfig } from './config.js';
