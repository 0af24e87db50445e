"""``import torch`` in a process that ``chainrule.as_torch`` started: a child that
multiprocessing spawns (``set_start_method("spawn")``, ``torch.multiprocessing.spawn``, the
forkserver) runs the program's main module afresh with the parent's ``sys.path``, where
``as_torch.install`` put this folder, so its ``import torch`` lands here and gives chainrule,
as in the parent. Importing it under its own name (``chainrule._torch_shim.torch``) does
nothing."""

if __name__ == "torch":
    import chainrule.as_torch

    # (replaces this module in sys.modules: the import statement that got here returns chainrule)
    chainrule.as_torch.install()
