// Types for the part of eslint-scope (which ships none) that free_variables.ts uses.
declare module "npm:eslint-scope@*" {
  interface Identifier {
    type: "Identifier";
    name: string;
    start: number;
    end: number;
  }
  interface Reference {
    identifier: Identifier;
    from: Scope;
    /** Whether the reference only reads the variable (no assignment, no update). */
    isReadOnly(): boolean;
  }
  interface Variable {
    name: string;
  }
  interface Scope {
    type: string;
    through: Reference[];
    variables: Variable[];
    childScopes: Scope[];
  }
  interface ScopeManager {
    globalScope: Scope;
    scopes: Scope[];
  }
  interface AnalyzeOptions {
    ecmaVersion?: number;
    sourceType?: "script" | "module" | "commonjs";
    impliedStrict?: boolean;
    optimistic?: boolean;
    ignoreEval?: boolean;
    nodejsScope?: boolean;
    fallback?: "iteration" | "none";
  }
  export function analyze(tree: unknown, options?: AnalyzeOptions): ScopeManager;
}
