FROM node:20
