/**
 * A retry budget for requests other than login (gRPC retry throttling, proposal A6): a token
 * bucket of MAX tokens; a failure takes one, a success gives back RATIO; retries are allowed only
 * while more than half the bucket is left. At 10 / 0.1 this stops retrying above ~10% failures,
 * so retries cannot multiply a storm.
 */
export const RETRY_BUDGET_MAX_TOKENS = 10
export const RETRY_BUDGET_TOKEN_RATIO = 0.1

export class RetryBudget {
  private tokens: number

  constructor (private readonly maxTokens = RETRY_BUDGET_MAX_TOKENS, private readonly ratio = RETRY_BUDGET_TOKEN_RATIO) {
    this.tokens = maxTokens
  }

  get available (): number {
    return this.tokens
  }

  onSuccess (): void {
    this.tokens = Math.min(this.maxTokens, this.tokens + this.ratio)
  }

  onFailure (): void {
    this.tokens = Math.max(0, this.tokens - 1)
  }

  /** True when a retry may be made now. */
  canRetry (): boolean {
    return this.tokens > this.maxTokens / 2
  }
}
