import { ApolloArmor } from '@escape.tech/graphql-armor';
import { ErrorCode, HmsError, type FieldError } from '@hms/service-kit/errors';
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { QueryLimits } from './config.js';

/** Name of a static query limit, reported in `extensions.limit` so clients can tell which one they hit. */
export type LimitName = 'maxDepth' | 'maxAliases' | 'maxTokens' | 'maxCost' | 'maxDirectives' | 'maxPageSize';

/** Creates the error for a query that breaks a static limit. The client must change its query, hence BAD_USER_INPUT. */
export function queryLimitError(limit: LimitName, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, limit } });
}

/**
 * Validation rules for depth, aliases, cost and directives, from graphql-armor. armor's default
 * rejection reports a BAD_USER_INPUT error without saying which limit; each rule here reports its own
 * name instead. armor's token limit is not used: it throws from a plugin hook, which Apollo Server
 * turns into HTTP 500, so the token limit is graphql-js's own parser option (see `parseOptions`).
 */
export function armorValidationRules(limits: QueryLimits): ValidationRule[] {
  const reject = (limit: ArmorLimitName) => ({
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(queryLimitError(limit, limitMessage(limit, limits[limit], error.message))),
    ],
  });
  const armor = new ApolloArmor({
    // Apollo Server's hideSchemaDetailsFromClientErrors removes suggestions in production; armor's
    // version would also hide them in development, where they help.
    blockFieldSuggestion: { enabled: false },
    maxTokens: { enabled: false },
    maxDepth: {
      n: limits.maxDepth,
      ignoreIntrospection: true,
      flattenFragments: true,
      ...reject('maxDepth'),
    },
    maxAliases: { n: limits.maxAliases, ...reject('maxAliases') },
    maxDirectives: { n: limits.maxDirectives, ...reject('maxDirectives') },
    costLimit: { maxCost: limits.maxCost, ...reject('maxCost') },
  });
  return armor.protect().validationRules as ValidationRule[];
}

type ArmorLimitName = 'maxDepth' | 'maxAliases' | 'maxCost' | 'maxDirectives';

const LIMIT_DESCRIPTIONS: Record<ArmorLimitName, { measure: string; advice: string }> = {
  maxDepth: { measure: 'depth', advice: 'Select fewer levels of nested fields.' },
  maxCost: { measure: 'cost', advice: 'Select fewer fields or request smaller pages with first or last.' },
  maxAliases: { measure: 'number of aliases', advice: 'Use fewer aliases.' },
  maxDirectives: { measure: 'number of directives', advice: 'Use fewer directives.' },
};

/**
 * Builds a plain message naming the limit, its value and the query's value. graphql-armor's own
 * messages start with "Syntax Error:" although the query parsed, and the value found is taken from them.
 */
export function limitMessage(limit: ArmorLimitName, max: number, armorMessage: string): string {
  const found = /found (\d+(?:\.\d+)?)/.exec(armorMessage)?.[1];
  const { measure, advice } = LIMIT_DESCRIPTIONS[limit];
  const actual = found === undefined ? '' : ` is ${found}, which`;
  return `The query's ${measure}${actual} exceeds the limit ${limit} = ${max}. ${advice}`;
}

/** graphql-js parse options: stops parsing once a document has more lexical tokens than allowed. */
export function parseOptions(limits: QueryLimits): { maxLexicalTokens: number } {
  return { maxLexicalTokens: limits.maxTokens };
}

const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more that (\d+) tokens/;

/** Recognises graphql-js's token-limit syntax error, so it can be reported like the other limits. */
export function isTokenLimitError(error: { message: string }): boolean {
  return TOKEN_LIMIT_MESSAGE.test(error.message);
}

/** Rewrites graphql-js's token-limit syntax error as a plain message naming the limit. */
export function tokenLimitMessage(message: string): string {
  const max = TOKEN_LIMIT_MESSAGE.exec(message)?.[1] ?? 'its maximum';
  return `The query contains more lexical tokens than the limit maxTokens = ${max}. Shorten the query.`;
}

const PAGE_ARGUMENTS = new Set(['first', 'last']);

/** BAD_USER_INPUT naming each `first` / `last` argument above the largest page size. */
export function pageSizeError(violations: FieldError[]): GraphQLError {
  const error = HmsError.badUserInput(violations);
  error.extensions.limit = 'maxPageSize' satisfies LimitName;
  return error;
}

/**
 * Rejects a literal `first` or `last` above the largest page size, naming the field and argument.
 * Values passed in variables are not known during validation (and validated documents are cached
 * without them), so `pageSizeVariableViolations` checks those per request.
 */
export function maxPageSizeRule(maxPageSize: number): ValidationRule {
  return (context) => ({
    Field(node) {
      for (const argument of node.arguments ?? []) {
        if (!PAGE_ARGUMENTS.has(argument.name.value) || argument.value.kind !== Kind.INT) continue;
        const requested = Number(argument.value.value);
        if (requested > maxPageSize) {
          context.reportError(
            pageSizeError([pageSizeViolation(node, argument.name.value, requested, maxPageSize)]),
          );
        }
      }
    },
  });
}

function pageSizeViolation(field: FieldNode, argument: string, requested: number, max: number): FieldError {
  return { field: `${field.name.value}.${argument}`, message: `must be at most ${max}, got ${requested}` };
}

/**
 * Finds `first` / `last` arguments that take a variable whose value (or default) is above the largest
 * page size, in the operation and the fragments it uses.
 */
export function pageSizeVariableViolations(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  maxPageSize: number,
): FieldError[] {
  const defaults = new Map<string, unknown>();
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue?.kind === Kind.INT) {
      defaults.set(definition.variable.name.value, Number(definition.defaultValue.value));
    }
  }
  const valueOf = (name: string): unknown =>
    variables && Object.hasOwn(variables, name) ? variables[name] : defaults.get(name);

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  const violations: FieldError[] = [];
  const visited = new Set<string>();
  const walk = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        for (const argument of selection.arguments ?? []) {
          if (!PAGE_ARGUMENTS.has(argument.name.value) || argument.value.kind !== Kind.VARIABLE) continue;
          const value = valueOf(argument.value.name.value);
          if (typeof value === 'number' && value > maxPageSize) {
            violations.push(pageSizeViolation(selection, argument.name.value, value, maxPageSize));
          }
        }
        if (selection.selectionSet) walk(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !visited.has(fragment.name.value)) {
          visited.add(fragment.name.value);
          walk(fragment.selectionSet);
        }
      }
    }
  };
  walk(operation.selectionSet);
  return violations;
}
