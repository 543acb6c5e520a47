import { getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../../domain/errors.js';
import { addressKey } from '../../limits/addressKey.js';
import type { GraphQLContext } from '../../../schema/builder.js';
import { toGraphQLError } from '../../../schema/errors.js';
import type { QueryBudget } from './queryBudget.js';
import { operationCost } from './listCost.js';

export interface ListCostOptions {
  /** MAX_QUERY_COST: operations dearer than this are refused (BAD_USER_INPUT) before they run. */
  maxCost: number;
  /** How much list reading runs at once (queryBudget.ts). */
  budget: QueryBudget;
}

/**
 * Operations cheaper than this (a mutation, `me`, one room: a few objects) run at once: they hold
 * next to nothing, and a send must never wait behind somebody's long lists.
 */
export const BUDGETED_FROM_COST = 50;

/**
 * The cost limit with list sizes (listCost.ts), for every operation Yoga runs: HTTP, SSE and the
 * WebSocket operations that go through Yoga's envelop (src/server/graphqlWs.ts). It runs when the
 * operation is executed rather than validated, because only then are the variables known
 * (`roomEvents(limit: $n)` costs what `$n` says), and Yoga caches validation by document.
 *
 * A refusal is the operation's result (an error with its public code), never a thrown error: over
 * graphql-ws a throw from `execute` would close the whole socket.
 */
export function useListCost(options: ListCostOptions): Plugin<Record<string, unknown>> {
  const { maxCost, budget } = options;
  return {
    onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const cost = costOf(args);
      if (cost > maxCost) return setResultAndStopExecution(tooDear(cost, maxCost));
      if (cost < BUDGETED_FROM_COST) return;
      const key = limitKey(args.contextValue as Partial<GraphQLContext> | undefined);
      setExecuteFn((execArgs) =>
        budget.run(key, cost, () => executeFn(execArgs) as Promise<ExecutionResult>).catch((error: unknown) => {
          const refusal = toGraphQLError(error);
          if (refusal) return { errors: [refusal] };
          throw error;
        }),
      );
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const cost = costOf(args);
      if (cost > maxCost) setResultAndStopExecution(tooDear(cost, maxCost));
    },
  };
}

function costOf(args: ExecutionArgs): number {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return 0;
  return operationCost({ schema: args.schema, document: args.document, operation, variables: args.variableValues });
}

function tooDear(cost: number, maxCost: number): ExecutionResult {
  const message = `this operation could return ${cost} objects, over the limit of ${maxCost}: ask for fewer items (a lower limit) or fewer aliases and nested lists`;
  return { errors: [toGraphQLError(badInput(message))!] };
}

/** Whose budget an operation takes: its user's, else its address's (sessions are free to make). */
function limitKey(context: Partial<GraphQLContext> | undefined): string {
  if (context?.viewer) return `user:${context.viewer.id}`;
  if (context?.clientAddress) return `address:${addressKey(context.clientAddress)}`;
  return `connection:${context?.connectionId ?? 'unknown'}`;
}
