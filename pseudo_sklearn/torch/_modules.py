"""Ready-made ``torch.nn.Module`` classes: the default MLP and Lee's reference CNN."""

import torch
from torch import nn
from torch.nn import functional as F


class MLPModule(nn.Module):
    """Small multi-layer perceptron, the default module of ``TorchClassifier``.

    ``TorchClassifier`` fills ``n_features`` and ``n_classes`` from the
    training data when they are not given in ``module_params``.

    Parameters
    ----------
    n_features : int, default=1
        Number of input features.
    n_classes : int, default=2
        Number of outputs (one logit per class).
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; each is followed by a ReLU.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from pseudo_sklearn.torch import MLPModule
    >>> MLPModule(n_features=4, n_classes=3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self, n_features=1, n_classes=2, hidden_layer_sizes=(100,), dropout=0.0
    ):
        super().__init__()
        layers = []
        width = n_features
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class ReferenceCNN(nn.Module):
    """The CNN of the published PyTorch pseudo-labeling loop on MNIST.

    conv(1->20, k5) - max-pool 2 - ReLU, conv(20->40, k5) - dropout2d -
    max-pool 2 - ReLU, fully connected 640->150 - ReLU - dropout, fully
    connected 150->10, log-softmax. It was trained there with plain SGD,
    learning rate 0.1 (``TorchClassifier(ReferenceCNN, optimizer="sgd", lr=0.1)``).

    Parameters
    ----------
    n_features : int, default=784
        Number of input features; must be 784. Rows are flat 28x28 images
        and are reshaped inside ``forward``, so ``X`` of shape (n, 784) works
        as is. Pixels are expected scaled to [0, 1] (optionally standardised);
        the module does no scaling itself.
    n_classes : int, default=10
        Number of outputs.
    dropout : float, default=0.5
        Probability of both the 2-D dropout after the second convolution and
        the dropout after the first fully connected layer.

    Notes
    -----
    ``cpu_channels_last = True``: the torch estimators keep its weights in
    channels-last memory format on CPU (its training step ran about twice as
    fast on 2 cores); on CUDA they leave the format as it is.

    Examples
    --------
    >>> import torch
    >>> from pseudo_sklearn.torch import ReferenceCNN
    >>> ReferenceCNN()(torch.zeros(3, 784)).shape
    torch.Size([3, 10])
    """

    # Read by the torch estimators: see Notes.
    cpu_channels_last = True

    def __init__(self, n_features=784, n_classes=10, dropout=0.5):
        super().__init__()
        if n_features != 784:
            raise ValueError(
                f"ReferenceCNN takes 28x28 images as rows of 784 pixels, got "
                f"n_features={n_features}; pass MNIST-shaped data or another module."
            )
        self.dropout = dropout
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5)
        self.conv2 = nn.Conv2d(20, 40, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(dropout)
        self.fc1 = nn.Linear(640, 150)
        self.fc2 = nn.Linear(150, n_classes)

    def forward(self, x):
        x = x.reshape(-1, 1, 28, 28)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, p=self.dropout, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)
