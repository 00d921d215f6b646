/**
 * The one home of every setting. Everything the system reads from the environment is declared
 * here, validated with zod, and turned into a typed `Config`. A wrong or missing value stops
 * start-up with a message naming the variable and what it expects; secrets never appear in
 * messages or in `describeConfig`.
 *
 * - variables.ts: the table of every environment variable (schema, default, secret, doc);
 * - schemas.ts: value formats (durations, ports, money per currency, ...);
 * - secrets.ts: secret-strength rules;
 * - load.ts: reading and checking process.env into a `Config`, or stopping start-up;
 * - views.ts: per-component views (vendor modes, recovery policy, Temporal address and UI).
 */
export { variables, type VariableName } from './variables';
export { ConfigError, describeConfig, loadConfig, loadConfigOrExit, type Config } from './load';
export { temporalAddressOf, temporalUiUrlOf } from './views';
