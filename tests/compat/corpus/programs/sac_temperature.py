"""Policy-gradient updates with a learned entropy temperature, in the style of minimalRL's PPO
and SAC: transitions stored as Python lists holding one-element tensors and turned into
batches with torch.tensor(...), a Normal policy's log-probabilities, a clipped surrogate loss,
and SAC's temperature log_alpha -- a 0-d tensor parameter -- tuned by its own Adam.

    python sac_temperature.py --updates 4
"""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Normal


class Policy(nn.Module):
    def __init__(self, state_dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(state_dim, hidden)
        self.fc_mu = nn.Linear(hidden, 1)
        self.fc_std = nn.Linear(hidden, 1)
        self.fc_v = nn.Linear(hidden, 1)

    def pi(self, x):
        x = F.relu(self.fc1(x))
        return 2.0 * torch.tanh(self.fc_mu(x)), F.softplus(self.fc_std(x)) + 1e-3

    def v(self, x):
        return self.fc_v(F.relu(self.fc1(x)))


def collect(policy, rng, steps):
    """A rollout as the programs keep it: per step, the action and its log-probability are
    tensors the policy returned (one element each)."""
    rollout = []
    s = rng.normal(size=3)
    for _ in range(steps):
        with torch.no_grad():
            mu, std = policy.pi(torch.tensor(s, dtype=torch.get_default_dtype()))
            a = mu + std * float(rng.normal())               # noise from NumPy, shared
            log_prob = Normal(mu, std).log_prob(a)
        s_prime = np.tanh(s + 0.1 * a.item())
        rollout.append((s, a, -float((s_prime ** 2).sum()), s_prime, log_prob))
        s = s_prime
    return rollout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=4)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--gamma", type=float, default=0.98)
    args = parser.parse_args()

    rng = np.random.default_rng(5)
    policy = Policy(3, 16)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    log_alpha = torch.tensor(np.log(0.01))
    log_alpha.requires_grad = True
    alpha_optimizer = torch.optim.Adam([log_alpha], lr=1e-2)
    target_entropy = -1.0

    for update in range(args.updates):
        rollout = collect(policy, rng, args.steps)
        s = torch.tensor([t[0] for t in rollout], dtype=torch.get_default_dtype())
        a = torch.tensor([[t[1]] for t in rollout], dtype=torch.get_default_dtype())
        r = torch.tensor([[t[2]] for t in rollout], dtype=torch.get_default_dtype())
        s_prime = torch.tensor([t[3] for t in rollout], dtype=torch.get_default_dtype())
        old_log_prob = torch.tensor([[t[4]] for t in rollout], dtype=torch.get_default_dtype())
        assert a.shape == (args.steps, 1) and old_log_prob.shape == (args.steps, 1)

        td_target = r + args.gamma * policy.v(s_prime)
        advantage = (td_target - policy.v(s)).detach()
        mu, std = policy.pi(s)
        dist = Normal(mu, std)
        log_prob = dist.log_prob(a)
        ratio = torch.exp(log_prob - old_log_prob)
        surrogate = torch.min(ratio * advantage, torch.clamp(ratio, 0.8, 1.2) * advantage)
        entropy = dist.entropy()
        loss = (-surrogate - log_alpha.exp().detach() * entropy
                + F.smooth_l1_loss(policy.v(s), td_target.detach())).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        alpha_loss = -(log_alpha.exp() * (log_prob + target_entropy).detach()).mean()
        alpha_optimizer.zero_grad()
        alpha_loss.backward()
        alpha_optimizer.step()
        print(f"update {update}: loss {loss.item():.4f} alpha {log_alpha.exp().item():.5f}")


if __name__ == "__main__":
    main()
